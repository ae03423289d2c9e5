//! Tokenise and stem: the analysis stage shared by the theme tagger and the stance reader.
//!
//! Text is split on Unicode word boundaries, lowercased and stemmed with the English
//! Snowball stemmer (rust-stemmers), behind our own [`Analyzer`] type. Each distinct word is
//! stemmed once per [`Vocabulary`] (a cache owned by one worker thread), not per occurrence.
//! Text that is all ASCII, nearly every finding once normalised, is split by [`AsciiWords`],
//! which applies the same word-boundary rules (UAX #29) to ASCII's character classes in one
//! pass over the bytes; a property test holds it to unicode-segmentation's answer.

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::FxHashMap;
use unicode_segmentation::UnicodeSegmentation;

use crate::bytes::{equal, in_range, letters, TOP};

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

/// Every byte of a `u128` with only its top bit set.
const TOP_BITS: u128 = u128::from_le_bytes([0x80; 16]);

/// The `len` (at most 16) bytes of `text` from `start`, zero-padded, as [`pack`] lays them
/// out. Read in one load where the text runs on for 16 bytes, so that no byte-by-byte copy
/// stands between the word and its lookup.
fn load_packed(text: &[u8], start: usize, len: usize) -> u128 {
    debug_assert!(len <= 16 && start + len <= text.len());
    let raw = match text.get(start..start + 16) {
        Some(b) => u128::from_le_bytes(b.try_into().expect("16 bytes")),
        None => {
            let mut buf = [0u8; 16];
            buf[..len].copy_from_slice(&text[start..start + len]);
            u128::from_le_bytes(buf)
        }
    };
    if len == 16 {
        raw
    } else {
        raw & ((1u128 << (8 * len)) - 1)
    }
}

/// ASCII letters of a packed word lower-cased, all bytes at once: a byte's top bit after
/// adding 0x3F says it is at least `A`, after adding 0x25 that it is past `Z`. Bytes are
/// ASCII (below 0x80), so no sum carries into the next byte.
fn lower_packed_ascii(x: u128) -> u128 {
    let at_least_a = x.wrapping_add(u128::from_le_bytes([0x3F; 16]));
    let past_z = x.wrapping_add(u128::from_le_bytes([0x25; 16]));
    let upper = at_least_a & !past_z & TOP_BITS;
    x | (upper >> 2)
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

/// The words of a text, with their byte offsets: see [`Analyzer::words`].
pub enum Words<'a> {
    Ascii(AsciiWords<'a>),
    Unicode(unicode_segmentation::UnicodeWordIndices<'a>),
}

impl<'a> Iterator for Words<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        match self {
            Words::Ascii(w) => w.next(),
            Words::Unicode(w) => w.find(|(_, w)| w.chars().any(char::is_alphanumeric)),
        }
    }
}

/// Word-boundary class of an ASCII byte (UAX #29, Word_Break property).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A-Z, a-z (ALetter).
    Letter,
    /// 0-9 (Numeric).
    Digit,
    /// `_` (ExtendNumLet).
    Connector,
    /// Anything else: never inside a word.
    Other,
}

/// [`Class`] of every byte value, looked up rather than matched in the inner loop.
static CLASSES: [Class; 256] = {
    let mut t = [Class::Other; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            b'a'..=b'z' | b'A'..=b'Z' => Class::Letter,
            b'0'..=b'9' => Class::Digit,
            b'_' => Class::Connector,
            _ => Class::Other,
        };
        b += 1;
    }
    t
};

fn class(b: u8) -> Class {
    CLASSES[b as usize]
}

/// The bytes of `x` (eight ASCII bytes) that are a letter, a digit or `_` (not
/// [`Class::Other`]).
fn word_bytes(x: u64) -> u64 {
    letters(x) | in_range(x, b'0', b'9') | equal(x, b'_')
}

/// The first index from `i` on whose byte is not of the run: word bytes (letters, digits, `_`)
/// when `word`, other bytes when not; `b.len()` when the run goes to the end. Eight bytes at a
/// time where the text runs on for eight.
fn run_end(b: &[u8], mut i: usize, word: bool) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let words = word_bytes(crate::bytes::word(chunk));
        let stop = if word { !words & TOP } else { words };
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && (class(b[i]) != Class::Other) == word {
        i += 1;
    }
    i
}

/// Words of an all-ASCII text by the UAX #29 rules that apply to ASCII: letters, digits and
/// `_` join (WB5, WB8-WB10, WB13a-b); `:`, `.` or `'` joins two letters (WB6-7); `,`, `;`,
/// `.` or `'` joins two digits (WB11-12). Segments without a letter or digit are not words.
pub struct AsciiWords<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Iterator for AsciiWords<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        let b = self.text.as_bytes();
        let mut i = self.at;
        loop {
            i = run_end(b, i, false);
            if i >= b.len() {
                self.at = i;
                return None;
            }
            let start = i;
            loop {
                i = run_end(b, i, true);
                // `b[i]` ends the run; a mid-word mark between two letters or two digits
                // carries the word on.
                let joins = i + 1 < b.len()
                    && matches!(
                        (class(b[i - 1]), b[i], class(b[i + 1])),
                        (Class::Letter, b':' | b'.' | b'\'', Class::Letter)
                            | (Class::Digit, b',' | b';' | b'.' | b'\'', Class::Digit)
                    );
                if !joins {
                    break;
                }
                i += 2;
            }
            self.at = i;
            let w = &self.text[start..i];
            // Only a run that starts with `_` can lack a letter or digit.
            if class(b[start]) != Class::Connector || w.bytes().any(|c| c.is_ascii_alphanumeric()) {
                return Some((start, w));
            }
        }
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
    pub fn words(text: &str) -> Words<'_> {
        if text.is_ascii() {
            Words::Ascii(AsciiWords { text, at: 0 })
        } else {
            Words::Unicode(text.unicode_word_indices())
        }
    }

    /// Tokenise `text`, registering new words in `vocab`.
    pub fn analyse(&self, text: &str, vocab: &mut Vocabulary) -> Vec<Token> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        let mut lower_buf = String::new();
        for (start, w) in Self::words(text) {
            let id = self.word_id(text.as_bytes(), start, w, &mut lower_buf, vocab);
            out.push(Token {
                start,
                end: start + w.len(),
                word: id,
            });
        }
        out
    }

    /// The vocabulary id of one word as written, `w`, found at `start` in `text`.
    #[inline]
    fn word_id(
        &self,
        text: &[u8],
        start: usize,
        w: &str,
        lower_buf: &mut String,
        vocab: &mut Vocabulary,
    ) -> WordId {
        // A short ASCII word already seen is found by its bytes lower-cased as they are
        // packed, without copying it.
        if w.len() <= 16 {
            let packed = load_packed(text, start, w.len());
            if packed & TOP_BITS == 0 {
                if let Some(&id) = vocab.short.get(&lower_packed_ascii(packed)) {
                    return id;
                }
            }
        }
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

    /// unicode-segmentation's words: the reference the ASCII splitter is held to, on text
    /// built from the characters the word-boundary rules treat specially.
    fn unicode_reference(text: &str) -> Vec<(usize, &str)> {
        text.unicode_word_indices()
            .filter(|(_, w)| w.chars().any(char::is_alphanumeric))
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn ascii_words_follow_the_unicode_rules(text in "[a-cA-C0-2_.,;:'\" \t\r\n!()/&-]{0,40}") {
            let fast: Vec<(usize, &str)> = AsciiWords { text: &text, at: 0 }.collect();
            proptest::prop_assert_eq!(fast, unicode_reference(&text));
        }
    }

    proptest::proptest! {
        /// Long words and long gaps, where the splitter reads eight bytes at a time.
        #[test]
        fn ascii_words_follow_the_unicode_rules_at_length(text in "([a-zA-Z0-9_]{0,20}[ .,;:'\t(-]{0,12}){0,8}") {
            let fast: Vec<(usize, &str)> = AsciiWords { text: &text, at: 0 }.collect();
            proptest::prop_assert_eq!(fast, unicode_reference(&text));
        }

        /// The eight-byte test of word bytes agrees with the byte table on all ASCII.
        #[test]
        fn word_bytes_match_the_classes(bytes in proptest::array::uniform8(0u8..0x80)) {
            let got = word_bytes(u64::from_le_bytes(bytes));
            for (k, &b) in bytes.iter().enumerate() {
                proptest::prop_assert_eq!(got >> (8 * k + 7) & 1 == 1, class(b) != Class::Other, "byte {:#x}", b);
            }
        }
    }

    #[test]
    fn ascii_words_on_report_text() {
        let text = "The MASH's 2,500 contacts (e.g. 1.5 per day) were screened; \
                    re-referrals fell: 12.3% in 2019/20, and case_id A1.b2's log's '...' ends.";
        let fast: Vec<(usize, &str)> = AsciiWords { text, at: 0 }.collect();
        assert_eq!(fast, unicode_reference(text));
        let words: Vec<&str> = fast.iter().map(|(_, w)| *w).collect();
        assert!(words.contains(&"MASH's") && words.contains(&"2,500") && words.contains(&"e.g"));
    }

    proptest::proptest! {
        #[test]
        fn packed_words_lower_as_bytes_do(text in "[ -~]{0,40}", start in 0usize..40, len in 0usize..17) {
            let b = text.as_bytes();
            proptest::prop_assume!(start + len <= b.len());
            let packed = load_packed(b, start, len);
            proptest::prop_assert_eq!(packed, pack(&text[start..start + len]).unwrap());
            let lower = text[start..start + len].to_ascii_lowercase();
            proptest::prop_assert_eq!(lower_packed_ascii(packed), pack(&lower).unwrap());
        }
    }

    #[test]
    fn punctuation_is_not_a_word() {
        let mut v = Vocabulary::new();
        let toks = Analyzer::english().analyse("- 12. (a) ... ;", &mut v);
        assert_eq!(toks.len(), 2); // "12" and "a"
    }
}
