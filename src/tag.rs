//! Theme tagging: which codebook themes each finding is about, and which words say so.
//!
//! The codebook is compiled once into one [`PhraseMatcher`] over every phrase of every rule;
//! tagging a finding is one automaton pass plus work proportional to the matches found, never
//! a loop over themes x terms. Within a theme, term matches are resolved leftmost-longest;
//! exclusions cancel the matches they overlap; `unless` themes cancel a theme afterwards.

use crate::analyse::{Analyzer, Token, Vocabulary};
use crate::codebook::{Codebook, Pattern};
use crate::phrase::{leftmost_longest, PhraseMatch, PhraseMatcher, SymCache};

/// What a compiled pattern is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Term,
    /// `all[k]` of near rule `rule`.
    NearAll {
        rule: usize,
        k: usize,
    },
    /// One of `any` of near rule `rule`.
    NearAny {
        rule: usize,
    },
    Exclude,
    Opener,
}

#[derive(Debug, Clone, Copy)]
struct Use {
    theme: usize,
    role: Role,
}

/// One theme found on a finding, with the token ranges that triggered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeHit {
    /// Index of the theme in the codebook.
    pub theme: usize,
    /// Token ranges (`start..end`, indices into the finding's tokens) that matched.
    pub spans: Vec<(usize, usize)>,
    /// Set when the theme was carried over from the previous finding (its 1-based id).
    pub inherited_from: Option<u32>,
}

/// A finding's tokens and themes.
#[derive(Debug, Clone, Default)]
pub struct Tagged {
    pub tokens: Vec<Token>,
    pub hits: Vec<ThemeHit>,
}

/// Per-worker scratch space: the vocabulary cache and the matcher's symbol memo.
#[derive(Default)]
pub struct Workspace {
    pub vocab: Vocabulary,
    pub syms: SymCache,
    pub stance_syms: SymCache,
}

/// The compiled codebook.
pub struct Tagger {
    pub book: Codebook,
    analyzer: Analyzer,
    matcher: PhraseMatcher,
    /// For each pattern, the rules that use it.
    uses: Vec<Vec<Use>>,
    /// Number of `all` phrases per near rule, per theme.
    near_all: Vec<Vec<usize>>,
}

impl Tagger {
    /// Compile a validated codebook.
    pub fn new(book: Codebook) -> anyhow::Result<Tagger> {
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut uses: Vec<Vec<Use>> = Vec::new();
        let add = |p: &Pattern, u: Use, patterns: &mut Vec<Pattern>, uses: &mut Vec<Vec<Use>>| {
            if let Some(i) = patterns
                .iter()
                .position(|q| q == p || (q.stems == p.stems && q.prefix_last == p.prefix_last))
            {
                uses[i].push(u);
            } else {
                patterns.push(p.clone());
                uses.push(vec![u]);
            }
        };
        let mut near_all = Vec::new();
        for (ti, t) in book.themes.iter().enumerate() {
            for p in &t.terms {
                add(
                    p,
                    Use {
                        theme: ti,
                        role: Role::Term,
                    },
                    &mut patterns,
                    &mut uses,
                );
            }
            let mut counts = Vec::new();
            for (ri, n) in t.near.iter().enumerate() {
                for (k, p) in n.all.iter().enumerate() {
                    add(
                        p,
                        Use {
                            theme: ti,
                            role: Role::NearAll { rule: ri, k },
                        },
                        &mut patterns,
                        &mut uses,
                    );
                }
                for p in &n.any {
                    add(
                        p,
                        Use {
                            theme: ti,
                            role: Role::NearAny { rule: ri },
                        },
                        &mut patterns,
                        &mut uses,
                    );
                }
                counts.push(n.all.len());
            }
            near_all.push(counts);
            for p in &t.exclude {
                add(
                    p,
                    Use {
                        theme: ti,
                        role: Role::Exclude,
                    },
                    &mut patterns,
                    &mut uses,
                );
            }
        }
        for p in &book.continuation_openers {
            add(
                p,
                Use {
                    theme: usize::MAX,
                    role: Role::Opener,
                },
                &mut patterns,
                &mut uses,
            );
        }
        let matcher = PhraseMatcher::new(&patterns)?;
        Ok(Tagger {
            book,
            analyzer: Analyzer::english(),
            matcher,
            uses,
            near_all,
        })
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Tag one finding on its own (no inheritance).
    pub fn tag(&self, text: &str, ws: &mut Workspace) -> Tagged {
        self.tag_inner(text, ws).0
    }

    /// Tag the findings of one document in order; a finding that opens with a continuation
    /// phrase and names no theme of its own inherits the previous finding's themes.
    pub fn tag_document<'a>(
        &self,
        texts: impl IntoIterator<Item = (u32, &'a str)>,
        ws: &mut Workspace,
    ) -> Vec<Tagged> {
        let mut out: Vec<Tagged> = Vec::new();
        let mut prev: Option<(u32, Vec<ThemeHit>)> = None;
        for (id, text) in texts {
            let (mut tagged, opens) = self.tag_inner(text, ws);
            if tagged.hits.is_empty() && opens {
                if let Some((pid, phits)) = &prev {
                    tagged.hits = phits
                        .iter()
                        .map(|h| ThemeHit {
                            theme: h.theme,
                            spans: Vec::new(),
                            inherited_from: Some(h.inherited_from.unwrap_or(*pid)),
                        })
                        .collect();
                }
            }
            prev = Some((id, tagged.hits.clone()));
            out.push(tagged);
        }
        out
    }

    fn tag_inner(&self, text: &str, ws: &mut Workspace) -> (Tagged, bool) {
        let tokens = self.analyzer.analyse(text, &mut ws.vocab);
        let matches = self.matcher.find(&tokens, &ws.vocab, &mut ws.syms);
        // Each match, once per rule that uses it, grouped by theme (a stable sort keeps the
        // matches' order within a theme). Only themes with some match are looked at.
        let mut events: Vec<(usize, Role, PhraseMatch)> = Vec::new();
        let mut opens = false;
        for m in &matches {
            for u in &self.uses[m.pattern] {
                match u.role {
                    Role::Opener => opens |= m.start == 0,
                    role => events.push((u.theme, role, *m)),
                }
            }
        }
        events.sort_by_key(|e| e.0);
        let overlaps = |a: (usize, usize), b: (usize, usize)| a.0 < b.1 && b.0 < a.1;
        let mut hits = Vec::new();
        let mut terms: Vec<PhraseMatch> = Vec::new();
        let mut ex: Vec<(usize, usize)> = Vec::new();
        for group in events.chunk_by(|a, b| a.0 == b.0) {
            let ti = group[0].0;
            terms.clear();
            ex.clear();
            let mut has_near = false;
            for (_, role, m) in group {
                match role {
                    Role::Term => terms.push(*m),
                    Role::Exclude => ex.push((m.start, m.end)),
                    _ => has_near = true,
                }
            }
            let mut spans: Vec<(usize, usize)> = leftmost_longest(&terms)
                .into_iter()
                .map(|m| (m.start, m.end))
                .filter(|s| !ex.iter().any(|e| overlaps(*s, *e)))
                .collect();
            if has_near {
                for (ri, &n_all) in self.near_all[ti].iter().enumerate() {
                    let mut alls: NearHits = (vec![Vec::new(); n_all], Vec::new());
                    for (_, role, m) in group {
                        match *role {
                            Role::NearAll { rule, k } if rule == ri => {
                                alls.0[k].push((m.start, m.end))
                            }
                            Role::NearAny { rule } if rule == ri => alls.1.push((m.start, m.end)),
                            _ => {}
                        }
                    }
                    let rule = &self.book.themes[ti].near[ri];
                    if let Some(found) =
                        fire_near(&alls.0, &alls.1, !rule.any.is_empty(), rule.within)
                    {
                        if !found.iter().any(|s| ex.iter().any(|e| overlaps(*s, *e))) {
                            spans.extend(found);
                        }
                    }
                }
            }
            if !spans.is_empty() {
                spans.sort_unstable();
                spans.dedup();
                hits.push(ThemeHit {
                    theme: ti,
                    spans,
                    inherited_from: None,
                });
            }
        }
        // `unless`: a theme is cancelled by the presence of another.
        let present: Vec<usize> = hits.iter().map(|h| h.theme).collect();
        hits.retain(|h| {
            !self.book.themes[h.theme]
                .unless
                .iter()
                .any(|u| present.contains(u))
        });
        (Tagged { tokens, hits }, opens)
    }

    /// The words of `spans` as written, joined by " | ".
    pub fn matched_words(text: &str, tokens: &[Token], spans: &[(usize, usize)]) -> Vec<String> {
        spans
            .iter()
            .filter(|(s, e)| s < e && *e <= tokens.len())
            .map(|&(s, e)| text[tokens[s].start..tokens[e - 1].end].to_string())
            .collect()
    }
}

/// Occurrences found for one near rule: per `all` phrase, and of any `any` phrase.
type NearHits = (Vec<Vec<(usize, usize)>>, Vec<(usize, usize)>);

/// Token gap between two ranges (0 when they touch or overlap).
fn gap(a: (usize, usize), b: (usize, usize)) -> usize {
    if a.1 <= b.0 {
        b.0 - a.1
    } else {
        a.0.saturating_sub(b.1)
    }
}

/// Whether a near rule fires; returns the spans that made it fire.
fn fire_near(
    alls: &[Vec<(usize, usize)>],
    anys: &[(usize, usize)],
    need_any: bool,
    within: Option<usize>,
) -> Option<Vec<(usize, usize)>> {
    if alls.is_empty() || alls.iter().any(|v| v.is_empty()) || (need_any && anys.is_empty()) {
        return None;
    }
    let groups: Vec<&[(usize, usize)]> = alls.iter().skip(1).map(|v| v.as_slice()).collect();
    match within {
        None => {
            let mut out: Vec<(usize, usize)> = alls.iter().map(|v| v[0]).collect();
            if let Some(a) = anys.first() {
                out.push(*a);
            }
            Some(out)
        }
        Some(w) => {
            for &anchor in &alls[0] {
                let mut out = vec![anchor];
                let mut ok = true;
                for g in &groups {
                    match g
                        .iter()
                        .filter(|s| gap(anchor, **s) <= w)
                        .min_by_key(|s| gap(anchor, **s))
                    {
                        Some(s) => out.push(*s),
                        None => {
                            ok = false;
                            break;
                        }
                    }
                }
                if ok && need_any {
                    match anys
                        .iter()
                        .filter(|s| gap(anchor, **s) <= w)
                        .min_by_key(|s| gap(anchor, **s))
                    {
                        Some(s) => out.push(*s),
                        None => ok = false,
                    }
                }
                if ok {
                    return Some(out);
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOK: &str = r#"
continuation_openers = ["this means", "as a result"]

[[theme]]
id = "strategy_meetings"
label = "Strategy meetings"
terms = ["strategy meeting", "strategy discussion"]

[[theme]]
id = "police_delays"
label = "Police delays"
[[theme.near]]
all = ["police"]
any = ["delay", "backlog", "not attend"]
within = 6

[[theme]]
id = "audit_quality"
label = "Audit"
terms = ["audit", "quality assurance"]
exclude = ["financial audit", "audit of financ*"]

[[theme]]
id = "thresholds"
label = "Thresholds"
terms = ["threshold"]
exclude = ["threshold of significant harm"]
"#;

    fn tagger() -> Tagger {
        Tagger::new(Codebook::parse(BOOK, "test.toml").unwrap()).unwrap()
    }

    fn themes(t: &Tagger, text: &str) -> Vec<(String, Vec<String>)> {
        let mut ws = Workspace::default();
        let tagged = t.tag(text, &mut ws);
        tagged
            .hits
            .iter()
            .map(|h| {
                (
                    t.book.themes[h.theme].id.clone(),
                    Tagger::matched_words(text, &tagged.tokens, &h.spans),
                )
            })
            .collect()
    }

    #[test]
    fn table() {
        let t = tagger();
        type Case<'a> = (&'a str, &'a [(&'a str, &'a [&'a str])]);
        let cases: &[Case] = &[
            (
                "Strategy meetings are timely and identify risk appropriately.",
                &[("strategy_meetings", &["Strategy meetings"])],
            ),
            ("The strategy for early help is well understood.", &[]),
            (
                "There are delays, sometimes of several weeks, in the police referring concerns.",
                &[("police_delays", &["delays", "police"])],
            ),
            (
                "The police and health partners contribute well to assessments.",
                &[],
            ),
            (
                "Police do not attend strategy meetings consistently.",
                &[
                    ("strategy_meetings", &["strategy meetings"]),
                    ("police_delays", &["Police", "not attend"]),
                ],
            ),
            (
                "Case file audits are rigorous.",
                &[("audit_quality", &["audits"])],
            ),
            ("A financial audit found overspends.", &[]),
            ("The audit of financial controls was completed.", &[]),
            (
                "Children at risk of the threshold of significant harm are seen.",
                &[],
            ),
            (
                "Thresholds are well understood by partners.",
                &[("thresholds", &["Thresholds"])],
            ),
        ];
        for (text, want) in cases {
            let got = themes(&t, text);
            let want: Vec<(String, Vec<String>)> = want
                .iter()
                .map(|(th, ws)| (th.to_string(), ws.iter().map(|w| w.to_string()).collect()))
                .collect();
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn near_rule_respects_its_window() {
        let t = tagger();
        let far = "The police were involved in the case from the start and, many months later, there was a delay.";
        assert!(themes(&t, far).is_empty());
    }

    #[test]
    fn continuation_inherits_only_without_own_themes() {
        let t = tagger();
        let mut ws = Workspace::default();
        let texts = [
            (1, "Strategy meetings are not always held."),
            (2, "This means that risk is not shared."),
            (3, "As a result, audits are late."),
            (4, "This means little."),
        ];
        let out = t.tag_document(texts, &mut ws);
        assert_eq!(out[1].hits.len(), 1);
        assert_eq!(out[1].hits[0].inherited_from, Some(1));
        assert_eq!(t.book.themes[out[2].hits[0].theme].id, "audit_quality");
        assert_eq!(out[2].hits.len(), 1);
        assert_eq!(out[3].hits[0].inherited_from, Some(3));
    }
}
