//! A phrase matcher over stem sequences, shared by the theme tagger and the stance reader.
//!
//! Every distinct word of the text maps (once per vocabulary entry) to a symbol: the symbol of
//! its stem when some pattern uses that stem, else of the longest wildcard prefix it starts
//! with, else a filler. Patterns are compiled into a trie over symbols, one edge per word, and
//! a finding is matched by walking the trie from each of its words that some pattern uses:
//! patterns are a few words long and nearly every walk stops after a step or two, so this reads
//! far less memory than a byte automaton over an encoding of the symbols would. Matches are
//! reported overlapping; callers choose among them (leftmost-longest per theme).

use rustc_hash::FxHashMap as HashMap;

use crate::analyse::{Token, Vocabulary};
use crate::codebook::Pattern;

/// The symbol of words no pattern uses.
const FILLER: u32 = 0;
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
    /// The trie nodes of one walk, with the end of the words read to reach each.
    path: Vec<(u32, u32)>,
}

/// Compiled patterns.
pub struct PhraseMatcher {
    trie: Trie,
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
        let mut trie = TrieBuilder::default();
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
            let mut partial: Vec<Vec<u32>> = vec![Vec::new()];
            for accept in &positions {
                partial = partial
                    .iter()
                    .flat_map(|head| {
                        accept.iter().map(move |&sym| {
                            let mut st = head.clone();
                            st.push(sym);
                            st
                        })
                    })
                    .collect();
            }
            for reading in &partial {
                trie.insert(reading, pi as u32);
            }
        }
        Ok(PhraseMatcher {
            trie: trie.build(next as usize),
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
            (None, None) => FILLER,
        }
    }

    /// The symbol of a vocabulary entry, worked out once and kept in `syms`.
    fn cached_symbol(&self, syms: &mut [u32], vocab: &Vocabulary, word: u32) -> u32 {
        let slot = &mut syms[word as usize];
        if *slot == UNSET {
            *slot = self.symbol(vocab, word);
        }
        *slot
    }

    /// All (overlapping) pattern occurrences in `tokens`, sorted by start, then longest first,
    /// then by pattern, into `out` (cleared first, so a caller can reuse its space). Each is
    /// found walking the trie from each word in turn.
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
        let path = &mut cache.path;
        for start in 0..tokens.len() {
            let Some(mut node) =
                self.trie
                    .root(self.cached_symbol(&mut cache.syms, vocab, tokens[start].word))
            else {
                continue;
            };
            // The nodes a walk from here passes, each with the end of the words it has read.
            // No pattern holds a filler, so a walk ends at one.
            path.clear();
            let mut end = start + 1;
            loop {
                path.push((node, end as u32));
                let Some(t) = tokens.get(end) else { break };
                let sym = self.cached_symbol(&mut cache.syms, vocab, t.word);
                match self.trie.child(node, sym) {
                    Some(next) => {
                        node = next;
                        end += 1;
                    }
                    None => break,
                }
            }
            // Longest first; a node's patterns are in order.
            for &(node, end) in path.iter().rev() {
                out.extend(self.trie.outputs(node).iter().map(|&pattern| PhraseMatch {
                    start,
                    end: end as usize,
                    pattern: pattern as usize,
                }));
            }
        }
    }
}

/// A trie of symbol sequences under construction.
#[derive(Default)]
struct TrieBuilder {
    /// (node, symbol) -> child; node 0 is the root, nodes are numbered from 1.
    edges: HashMap<(u32, u32), u32>,
    /// Patterns ending at each node, as (node, pattern).
    ends: Vec<(u32, u32)>,
    nodes: u32,
}

impl TrieBuilder {
    fn insert(&mut self, symbols: &[u32], pattern: u32) {
        let mut node = 0;
        for &s in symbols {
            let next = self.nodes + 1;
            node = *self.edges.entry((node, s)).or_insert(next);
            if node == next {
                self.nodes = next;
            }
        }
        self.ends.push((node, pattern));
    }

    /// Frozen into flat arrays: the root's children indexed by symbol (`symbols` of them),
    /// every other node's children as a run sorted by symbol, and each node's patterns.
    fn build(self, symbols: usize) -> Trie {
        let n = self.nodes as usize + 1;
        let mut root = vec![0u32; symbols];
        let mut edges: Vec<(u32, u32, u32)> = Vec::new();
        for (&(from, sym), &to) in &self.edges {
            if from == 0 {
                root[sym as usize] = to;
            } else {
                edges.push((from, sym, to));
            }
        }
        edges.sort_unstable();
        let mut ends = self.ends;
        ends.sort_unstable();
        ends.dedup();
        let mut child_at = vec![0u32; n + 1];
        for &(from, _, _) in &edges {
            child_at[from as usize + 1] += 1;
        }
        let mut out_at = vec![0u32; n + 1];
        for &(node, _) in &ends {
            out_at[node as usize + 1] += 1;
        }
        for i in 1..=n {
            child_at[i] += child_at[i - 1];
            out_at[i] += out_at[i - 1];
        }
        Trie {
            root,
            child_at,
            children: edges.iter().map(|&(_, s, to)| (s, to)).collect(),
            out_at,
            outputs: ends.iter().map(|&(_, p)| p).collect(),
        }
    }
}

/// Compiled patterns as a trie over symbols.
struct Trie {
    /// The root's child for each symbol; 0 when there is none.
    root: Vec<u32>,
    /// Node `n`'s children are `children[child_at[n]..child_at[n + 1]]`, sorted by symbol.
    child_at: Vec<u32>,
    children: Vec<(u32, u32)>,
    /// Node `n`'s patterns are `outputs[out_at[n]..out_at[n + 1]]`.
    out_at: Vec<u32>,
    outputs: Vec<u32>,
}

impl Trie {
    fn root(&self, symbol: u32) -> Option<u32> {
        self.root.get(symbol as usize).copied().filter(|&n| n != 0)
    }

    fn child(&self, node: u32, symbol: u32) -> Option<u32> {
        let run = &self.children
            [self.child_at[node as usize] as usize..self.child_at[node as usize + 1] as usize];
        if run.len() <= 8 {
            run.iter().find(|(s, _)| *s == symbol).map(|&(_, n)| n)
        } else {
            run.binary_search_by_key(&symbol, |&(s, _)| s)
                .ok()
                .map(|i| run[i].1)
        }
    }

    fn outputs(&self, node: u32) -> &[u32] {
        &self.outputs[self.out_at[node as usize] as usize..self.out_at[node as usize + 1] as usize]
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
            (
                "the same words in two patterns are reported for both",
                &["police delay", "police delays"],
                "police delays",
                &[(0, "police delays"), (1, "police delays")],
            ),
            (
                "a word followed by many different words",
                &[
                    "police attendance",
                    "police checks",
                    "police delay",
                    "police information",
                    "police involvement",
                    "police notif*",
                    "police officers",
                    "police presence",
                    "police response",
                    "police sharing",
                ],
                "police response and police notifications, then police and police attendance",
                &[
                    (8, "police response"),
                    (5, "police notifications"),
                    (0, "police attendance"),
                ],
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
