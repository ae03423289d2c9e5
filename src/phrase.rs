//! A phrase matcher over stem sequences, shared by the theme tagger and the stance reader.
//!
//! Every distinct word of the text maps (once per vocabulary entry) to a symbol: the symbol of
//! its stem when some pattern uses that stem, else of the longest wildcard prefix it starts
//! with, else a filler. Each symbol is one private-use character, so a finding becomes a short
//! string and all patterns are found in one pass of an Aho-Corasick automaton; UTF-8 being
//! self-synchronising, a match always starts and ends on whole tokens. No pattern holds a
//! filler, so a run of fillers is written as one: the automaton reads only the runs of words
//! some pattern uses, and a table maps each symbol back to its token. Matches are reported
//! overlapping; callers choose among them (leftmost-longest per theme).

use rustc_hash::FxHashMap as HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::analyse::{Token, Vocabulary};
use crate::codebook::Pattern;

/// First private-use code point; it is the filler for words no pattern uses.
const BASE: u32 = 0xE000;
/// Symbols available in the Basic Multilingual Plane's private-use area (all 3 bytes in UTF-8).
const MAX_SYMBOLS: usize = 0xF8FF - 0xE000;
const FILLER: char = '\u{E000}';
const UNSET: u32 = u32::MAX;
/// Most readings one pattern may expand to.
const MAX_ALTERNATIVES: usize = 4096;

/// One occurrence of a pattern: tokens `start..end` of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PhraseMatch {
    pub start: usize,
    pub end: usize,
    pub pattern: usize,
}

/// Per-vocabulary memo of word -> symbol, owned by one worker.
#[derive(Debug, Default)]
pub struct SymCache {
    syms: Vec<u32>,
    buf: String,
    /// Token index of each symbol written to `buf`.
    pos: Vec<u32>,
}

/// Compiled patterns.
pub struct PhraseMatcher {
    ac: AhoCorasick,
    /// For each automaton pattern, the index of the caller's pattern it stands for.
    owner: Vec<usize>,
    exact: HashMap<Box<str>, u32>,
    /// Wildcard prefixes, longest first.
    prefixes: Vec<(Box<str>, u32)>,
    /// (exact symbol, prefix symbol) -> the symbol of a word satisfying both.
    combos: HashMap<(u32, u32), u32>,
}

impl PhraseMatcher {
    /// Compile patterns (as validated by the codebook or lexicon loader).
    pub fn new(patterns: &[Pattern]) -> anyhow::Result<PhraseMatcher> {
        let mut exact_keys: Vec<&str> = Vec::new();
        let mut prefix_keys: Vec<&str> = Vec::new();
        for p in patterns {
            let n = p.stems.len();
            for (i, s) in p.stems.iter().enumerate() {
                if p.prefix_last && i + 1 == n {
                    prefix_keys.push(s);
                } else {
                    exact_keys.push(s);
                }
            }
        }
        exact_keys.sort_unstable();
        exact_keys.dedup();
        // Longest prefix first, so a word takes the most specific wildcard.
        prefix_keys.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        prefix_keys.dedup();
        let total = exact_keys.len() + prefix_keys.len();
        if total >= MAX_SYMBOLS {
            anyhow::bail!(
                "too many distinct words in patterns ({total}); the limit is {MAX_SYMBOLS}"
            );
        }
        let exact: HashMap<Box<str>, u32> = exact_keys
            .iter()
            .enumerate()
            .map(|(i, k)| (Box::from(*k), i as u32 + 1))
            .collect();
        let prefixes: Vec<(Box<str>, u32)> = prefix_keys
            .iter()
            .enumerate()
            .map(|(i, k)| (Box::from(*k), (exact_keys.len() + 1 + i) as u32))
            .collect();
        // A word can satisfy an exact stem and a wildcard at once ("effective" has the stem
        // "effect" and starts with "effective"). Such a word gets a symbol of its own for the
        // pair, accepted wherever either is; pairs are made for stems and prefixes that share
        // their first three letters.
        let mut combos: HashMap<(u32, u32), u32> = HashMap::default();
        let mut next = total as u32 + 1;
        for (ei, e) in exact_keys.iter().enumerate() {
            for (p, ps) in &prefixes {
                if e.chars().take(3).eq(p.chars().take(3)) {
                    combos.insert((ei as u32 + 1, *ps), next);
                    next += 1;
                }
            }
        }
        if next as usize >= MAX_SYMBOLS {
            anyhow::bail!(
                "too many distinct words in patterns ({next}); the limit is {MAX_SYMBOLS}"
            );
        }
        let mut strings: Vec<String> = Vec::new();
        let mut owner = Vec::new();
        for (pi, p) in patterns.iter().enumerate() {
            let n = p.stems.len();
            // The symbols each position accepts.
            let mut positions: Vec<Vec<u32>> = Vec::with_capacity(n);
            for (i, stem) in p.stems.iter().enumerate() {
                let mut accept: Vec<u32>;
                if p.prefix_last && i + 1 == n {
                    let ps = prefixes
                        .iter()
                        .find(|(k, _)| **k == **stem)
                        .map(|(_, s)| *s)
                        .expect("prefix registered");
                    accept = vec![ps];
                    // A word whose stem is itself a pattern stem starting with the prefix.
                    accept.extend(
                        exact
                            .iter()
                            .filter(|(k, _)| k.starts_with(stem.as_str()))
                            .map(|(_, &s)| s),
                    );
                    accept.extend(
                        combos
                            .iter()
                            .filter(|((_, q), _)| *q == ps)
                            .map(|(_, &c)| c),
                    );
                } else {
                    let es = exact[stem.as_str()];
                    accept = vec![es];
                    accept.extend(
                        combos
                            .iter()
                            .filter(|((e, _), _)| *e == es)
                            .map(|(_, &c)| c),
                    );
                }
                accept.sort_unstable();
                accept.dedup();
                positions.push(accept);
            }
            let alternatives: usize = positions.iter().map(Vec::len).product();
            if alternatives > MAX_ALTERNATIVES {
                anyhow::bail!(
                    "pattern '{}' is too ambiguous ({alternatives} readings); make its words more specific",
                    p.source
                );
            }
            let mut partial: Vec<String> = vec![String::new()];
            for accept in &positions {
                partial = partial
                    .iter()
                    .flat_map(|head| {
                        accept.iter().map(move |&sym| {
                            let mut st = head.clone();
                            st.push(sym_char(sym));
                            st
                        })
                    })
                    .collect();
            }
            for st in partial {
                strings.push(st);
                owner.push(pi);
            }
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&strings)?;
        Ok(PhraseMatcher {
            ac,
            owner,
            exact,
            prefixes,
            combos,
        })
    }

    fn symbol(&self, vocab: &Vocabulary, word: u32) -> u32 {
        let e = vocab.entry(word);
        let exact = self.exact.get(&e.stem).copied();
        let prefix = self
            .prefixes
            .iter()
            .find(|(p, _)| e.lower.starts_with(&**p))
            .map(|(_, s)| *s);
        match (exact, prefix) {
            (Some(x), Some(p)) => self.combos.get(&(x, p)).copied().unwrap_or(x),
            (Some(x), None) => x,
            (None, Some(p)) => p,
            (None, None) => 0,
        }
    }

    /// All (overlapping) pattern occurrences in `tokens`, sorted by start, then longest first,
    /// into `out` (cleared first, so a caller can reuse its space).
    pub fn find_into(
        &self,
        tokens: &[Token],
        vocab: &Vocabulary,
        cache: &mut SymCache,
        out: &mut Vec<PhraseMatch>,
    ) {
        out.clear();
        if cache.syms.len() < vocab.len() {
            cache.syms.resize(vocab.len(), UNSET);
        }
        let mut buf = std::mem::take(&mut cache.buf);
        buf.clear();
        let pos = &mut cache.pos;
        pos.clear();
        let mut any = false;
        let mut after_filler = true;
        for (i, t) in tokens.iter().enumerate() {
            let slot = &mut cache.syms[t.word as usize];
            if *slot == UNSET {
                *slot = self.symbol(vocab, t.word);
            }
            if *slot == 0 {
                // One filler stands for the whole run: it only has to keep runs apart.
                if !after_filler {
                    buf.push(FILLER);
                    pos.push(i as u32);
                    after_filler = true;
                }
                continue;
            }
            any = true;
            after_filler = false;
            buf.push(sym_char(*slot));
            pos.push(i as u32);
        }
        if any {
            for m in self.ac.find_overlapping_iter(buf.as_str()) {
                // Every symbol is 3 bytes long, and a match never holds a filler, so its
                // symbols stand for consecutive tokens.
                let (first, last) = (m.start() / 3, m.end() / 3 - 1);
                out.push(PhraseMatch {
                    start: pos[first] as usize,
                    end: pos[last] as usize + 1,
                    pattern: self.owner[m.pattern().as_usize()],
                });
            }
        }
        cache.buf = buf;
        out.sort_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then(b.end.cmp(&a.end))
                .then(a.pattern.cmp(&b.pattern))
        });
        out.dedup();
    }
}

fn sym_char(s: u32) -> char {
    if s == 0 {
        FILLER
    } else {
        char::from_u32(BASE + s).unwrap_or(FILLER)
    }
}

/// Keep the leftmost-longest non-overlapping subset of `matches` (sorted as `find` returns them).
pub fn leftmost_longest(matches: &[PhraseMatch]) -> Vec<PhraseMatch> {
    let mut out: Vec<PhraseMatch> = Vec::new();
    leftmost_longest_into(matches.iter().copied(), &mut out);
    out
}

/// [`leftmost_longest`] appended to `out`, after what it already holds.
pub fn leftmost_longest_into(
    matches: impl IntoIterator<Item = PhraseMatch>,
    out: &mut Vec<PhraseMatch>,
) {
    let from = out.len();
    for m in matches {
        if out.len() == from || out.last().is_some_and(|l| m.start >= l.end) {
            out.push(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::Analyzer;

    fn pat(a: &Analyzer, s: &str) -> Pattern {
        let prefix_last = s.ends_with('*');
        let mut stems = a.stems(s.trim_end_matches('*'));
        if prefix_last {
            *stems.last_mut().unwrap() = s
                .trim_end_matches('*')
                .split(' ')
                .next_back()
                .unwrap()
                .to_string();
        }
        Pattern {
            stems,
            prefix_last,
            source: s.into(),
        }
    }

    fn run(patterns: &[&str], text: &str) -> Vec<(usize, String)> {
        let a = Analyzer::english();
        let ps: Vec<Pattern> = patterns.iter().map(|p| pat(&a, p)).collect();
        let m = PhraseMatcher::new(&ps).unwrap();
        let mut v = Vocabulary::new();
        let toks = a.analyse(text, &mut v);
        let mut c = SymCache::default();
        let mut found = Vec::new();
        m.find_into(&toks, &v, &mut c, &mut found);
        found
            .into_iter()
            .map(|x| {
                (
                    x.pattern,
                    text[toks[x.start].start..toks[x.end - 1].end].to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn table() {
        type Case<'a> = (&'a str, &'a [&'a str], &'a str, &'a [(usize, &'a str)]);
        let cases: &[Case] = &[
            (
                "phrase on stems",
                &["strategy meetings"],
                "A strategy meeting was held.",
                &[(0, "strategy meeting")],
            ),
            (
                "whole tokens only",
                &["meet"],
                "The meetings met.",
                &[(0, "meetings")],
            ),
            (
                "no partial word",
                &["police"],
                "Policemen and policies.",
                &[],
            ),
            (
                "overlapping all reported",
                &["strategy meeting", "meeting"],
                "strategy meetings",
                &[(0, "strategy meetings"), (1, "meetings")],
            ),
            (
                "wildcard prefix",
                &["exploit*"],
                "Exploitation and exploited children",
                &[(0, "Exploitation"), (0, "exploited")],
            ),
            (
                "wildcard with exact stem elsewhere",
                &["exploit*", "exploitation"],
                "exploitation",
                &[(0, "exploitation"), (1, "exploitation")],
            ),
            (
                "wildcard longer than a stem elsewhere",
                &["effective*", "the effect of"],
                "effective work and the effect of it",
                &[(0, "effective"), (1, "the effect of")],
            ),
            (
                "exact stem still matches beside a wildcard",
                &["effective*", "effect"],
                "the effect was effective",
                &[(1, "effect"), (0, "effective"), (1, "effective")],
            ),
            (
                "gap breaks a phrase",
                &["strategy meeting"],
                "strategy, then a meeting",
                &[],
            ),
            (
                "a run of unused words still breaks a phrase",
                &["strategy meeting", "police"],
                "strategy and then and then meeting with police",
                &[(1, "police")],
            ),
            (
                "matches after long runs of unused words keep their place",
                &["strategy meeting", "delay"],
                "In the first of many of the cases seen a strategy meeting was held \
                 but in some of the other cases there was delay, and more delay.",
                &[(0, "strategy meeting"), (1, "delay"), (1, "delay")],
            ),
        ];
        for (name, pats, text, want) in cases {
            let got = run(pats, text);
            let want: Vec<(usize, String)> =
                want.iter().map(|(p, s)| (*p, s.to_string())).collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn leftmost_longest_prefers_the_longer_match() {
        let ms = [
            PhraseMatch {
                start: 0,
                end: 2,
                pattern: 0,
            },
            PhraseMatch {
                start: 1,
                end: 2,
                pattern: 1,
            },
            PhraseMatch {
                start: 2,
                end: 3,
                pattern: 1,
            },
        ];
        assert_eq!(leftmost_longest(&ms), vec![ms[0], ms[2]]);
    }
}
