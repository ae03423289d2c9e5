//! Tokenise and stem: the analysis stage shared by the theme tagger and the stance reader.
//!
//! Text is split on Unicode word boundaries, lowercased and stemmed with the English
//! Snowball stemmer (rust-stemmers), behind our own [`Analyzer`] type. Each distinct word is
//! stemmed once per [`Vocabulary`] (a cache owned by one worker thread), not per occurrence.

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::FxHashMap;
use unicode_segmentation::UnicodeSegmentation;

/// Identifier of a distinct lowercase word in a [`Vocabulary`].
pub type WordId = u32;

/// One word of a text, with where it stands and which vocabulary entry it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the word in the analysed text.
    pub start: usize,
    /// Byte offset just past the word.
    pub end: usize,
    /// The word's entry in the vocabulary it was analysed with.
    pub word: WordId,
}

/// A distinct word and its stem.
#[derive(Debug, Clone)]
pub struct Entry {
    pub lower: Box<str>,
    pub stem: Box<str>,
}

/// Cache of distinct lowercase words and their stems, grown as text is analysed.
#[derive(Debug, Default)]
pub struct Vocabulary {
    /// Words of up to 16 bytes, packed into an integer (see [`pack`]): compared in one go.
    short: FxHashMap<u128, WordId>,
    /// Longer words.
    long: FxHashMap<Box<str>, WordId>,
    entries: Vec<Entry>,
}

/// A word of at most 16 bytes and no NUL byte as an integer: its bytes, zero-padded, so
/// distinct words give distinct integers.
fn pack(w: &str) -> Option<u128> {
    let b = w.as_bytes();
    if b.len() > 16 || b.contains(&0) {
        return None;
    }
    let mut buf = [0u8; 16];
    buf[..b.len()].copy_from_slice(b);
    Some(u128::from_le_bytes(buf))
}

impl Vocabulary {
    pub fn new() -> Self {
        Self::default()
    }

    /// The entry for a word id.
    pub fn entry(&self, id: WordId) -> &Entry {
        &self.entries[id as usize]
    }

    /// Number of distinct words seen.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// English analyser: Unicode word segmentation, lowercasing, Snowball stemming.
pub struct Analyzer {
    stemmer: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::english()
    }
}

impl Analyzer {
    /// The English analyser.
    pub fn english() -> Self {
        Analyzer {
            stemmer: Stemmer::create(Algorithm::English),
        }
    }

    /// Stem one lowercase word (the stemmer expects lowercase input).
    pub fn stem_word(&self, lower: &str) -> String {
        let w = lower.strip_suffix("'s").unwrap_or(lower);
        self.stemmer.stem(w).into_owned()
    }

    /// Split `text` into words (tokens with at least one alphanumeric character).
    pub fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
        text.unicode_word_indices()
            .filter(|(_, w)| w.chars().any(char::is_alphanumeric))
    }

    /// Tokenise `text`, registering new words in `vocab`.
    pub fn analyse(&self, text: &str, vocab: &mut Vocabulary) -> Vec<Token> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        let mut lower_buf = String::new();
        for (start, w) in Self::words(text) {
            let id = self.word_id(w, &mut lower_buf, vocab);
            out.push(Token {
                start,
                end: start + w.len(),
                word: id,
            });
        }
        out
    }

    /// The vocabulary id of one word as written.
    fn word_id(&self, w: &str, lower_buf: &mut String, vocab: &mut Vocabulary) -> WordId {
        let key: &str = if w.is_ascii() {
            if w.bytes().any(|b| b.is_ascii_uppercase()) {
                lower_buf.clear();
                lower_buf.push_str(w);
                lower_buf.make_ascii_lowercase();
                lower_buf.as_str()
            } else {
                w
            }
        } else if w.chars().any(|c| c.is_uppercase() || c == '\u{2019}') {
            lower_buf.clear();
            for c in w.chars() {
                if c == '\u{2019}' {
                    lower_buf.push('\'');
                } else {
                    lower_buf.extend(c.to_lowercase());
                }
            }
            lower_buf.as_str()
        } else {
            w
        };
        let packed = pack(key);
        let found = match packed {
            Some(k) => vocab.short.get(&k),
            None => vocab.long.get(key),
        };
        if let Some(&id) = found {
            return id;
        }
        let id = vocab.entries.len() as WordId;
        let stem = self.stem_word(key);
        vocab.entries.push(Entry {
            lower: key.into(),
            stem: stem.into_boxed_str(),
        });
        match packed {
            Some(k) => vocab.short.insert(k, id),
            None => vocab.long.insert(key.into(), id),
        };
        id
    }

    /// Stems of a phrase, in order (used to compile codebooks and lexicons).
    pub fn stems(&self, phrase: &str) -> Vec<String> {
        Self::words(phrase)
            .map(|(_, w)| self.stem_word(&w.to_lowercase().replace('\u{2019}', "'")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_and_singular_share_a_stem() {
        let a = Analyzer::english();
        assert_eq!(a.stems("strategy meetings"), a.stems("Strategy meeting"));
        assert_eq!(a.stems("caseloads"), a.stems("caseload"));
        assert_eq!(a.stems("delays"), a.stems("delayed"));
    }

    #[test]
    fn tokens_keep_offsets_and_share_vocabulary_entries() {
        let a = Analyzer::english();
        let mut v = Vocabulary::new();
        let text = "Delays, delays — and children’s views.";
        let toks = a.analyse(text, &mut v);
        let words: Vec<&str> = toks.iter().map(|t| &text[t.start..t.end]).collect();
        assert_eq!(words, ["Delays", "delays", "and", "children’s", "views"]);
        // "Delays" and "delays" are one entry, looked up once.
        assert_eq!(toks[0].word, toks[1].word);
        assert_eq!(v.len(), 4);
        assert_eq!(&*v.entry(toks[3].word).stem, "children");
    }

    #[test]
    fn punctuation_is_not_a_word() {
        let mut v = Vocabulary::new();
        let toks = Analyzer::english().analyse("- 12. (a) ... ;", &mut v);
        assert_eq!(toks.len(), 2); // "12" and "a"
    }
}
