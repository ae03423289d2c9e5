//! Theme tagging: which codebook themes each finding is about, and which words say so.
//!
//! The codebook is compiled once into one [`PhraseMatcher`] over every phrase of every rule;
//! tagging a finding is one pass over its words plus work proportional to the matches found, never
//! a loop over themes x terms. Within a theme, term matches are resolved leftmost-longest;
//! exclusions cancel the matches they overlap; `unless` themes cancel a theme afterwards.
//!
//! A document is tagged in three steps: each finding on its own (the same single pass, which
//! also records the matches of paragraph rules' terms and anchors); then, within each
//! paragraph (a run of findings with the same paragraph key), which paragraph rules fire on
//! which finding (its terms match and one of the rule's anchors is in reach); then, in reading
//! order, the continuation rule, the themes of the paragraph rules that fired (spans: the
//! finding's own matched words; a rule's `unless` checks every theme the finding has), and
//! `unless`. Paragraph rules only add a theme the finding has not found by its own terms and
//! near rules; they take the place of an inherited one.

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
    /// One of `terms` of paragraph rule `rule`.
    ParaTerm {
        rule: usize,
    },
    /// One of `anchor` of paragraph rule `rule`.
    ParaAnchor {
        rule: usize,
    },
    Exclude,
    Opener,
}

/// A paragraph rule's match in one finding, exclusions already applied.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ParaEvent {
    /// The finding holds an anchor of rule `rule` of theme `theme`.
    Anchor { theme: usize, rule: usize },
    /// The finding matches terms of rule `rule` of theme `theme`, at `spans`.
    Terms {
        theme: usize,
        rule: usize,
        spans: Vec<(usize, usize)>,
    },
}

/// One finding tagged on its own, before the paragraph rules and `unless`.
struct Own {
    tagged: Tagged,
    /// Opens with a continuation phrase.
    opens: bool,
    para: Vec<ParaEvent>,
    /// Paragraph rules whose terms match here and whose anchor is in reach:
    /// (theme, rule, spans of the terms).
    fired: Vec<Fired>,
}

type Fired = (usize, usize, Vec<(usize, usize)>);

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

/// Per-worker scratch space: the vocabulary cache, the matcher's symbol memo, the tagger's
/// working lists and the stance reader's, kept from one finding to the next.
#[derive(Default)]
pub struct Workspace {
    pub vocab: Vocabulary,
    pub syms: SymCache,
    pub stance: crate::stance::StanceScratch,
    scratch: Scratch,
}

/// The tagger's working lists, cleared and refilled for each finding.
#[derive(Default)]
struct Scratch {
    matches: Vec<PhraseMatch>,
    events: Vec<(usize, Role, PhraseMatch)>,
    terms: Vec<PhraseMatch>,
    ex: Vec<(usize, usize)>,
    para_terms: Vec<(usize, PhraseMatch)>,
    anchors: Vec<(usize, (usize, usize))>,
    near_alls: Vec<Vec<(usize, usize)>>,
    near_any: Vec<(usize, usize)>,
    /// One theme's near-rule matches: (rule, `Some(k)` for `all[k]` or `None` for `any`, span).
    near: Vec<(usize, Option<usize>, (usize, usize))>,
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
            for (ri, r) in t.paragraph.iter().enumerate() {
                for p in &r.terms {
                    add(
                        p,
                        Use {
                            theme: ti,
                            role: Role::ParaTerm { rule: ri },
                        },
                        &mut patterns,
                        &mut uses,
                    );
                }
                for p in &r.anchor {
                    add(
                        p,
                        Use {
                            theme: ti,
                            role: Role::ParaAnchor { rule: ri },
                        },
                        &mut patterns,
                        &mut uses,
                    );
                }
            }
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

    /// Tag one finding on its own: no inheritance, and the finding is its own paragraph.
    pub fn tag(&self, text: &str, ws: &mut Workspace) -> Tagged {
        self.tag_document([(0, 0, text)], ws)
            .pop()
            .unwrap_or_default()
    }

    /// Tag the findings of one document in order. Each item is the finding's id, its
    /// paragraph key and its text; consecutive findings with the same key are one paragraph
    /// (the pipeline passes the block's `source_start`). Paragraph rules add themes within a
    /// paragraph; then a finding that opens with a continuation phrase and names no theme by
    /// its own terms and near rules inherits the previous finding's themes, beside any its
    /// paragraph rules gave it.
    pub fn tag_document<'a>(
        &self,
        texts: impl IntoIterator<Item = (u32, usize, &'a str)>,
        ws: &mut Workspace,
    ) -> Vec<Tagged> {
        let mut ids = Vec::new();
        let mut keys = Vec::new();
        let mut own: Vec<Own> = Vec::new();
        for (id, key, text) in texts {
            ids.push(id);
            keys.push(key);
            own.push(self.tag_inner(text, ws));
        }
        let mut start = 0;
        for (i, key) in keys.iter().enumerate() {
            if keys.get(i + 1) != Some(key) {
                self.paragraph_rules(&mut own[start..=i]);
                start = i + 1;
            }
        }
        let mut out: Vec<Tagged> = Vec::with_capacity(own.len());
        let mut prev: Option<(u32, Vec<ThemeHit>)> = None;
        for (id, o) in ids.into_iter().zip(own) {
            let mut tagged = o.tagged;
            // Themes found by the finding's own terms and near rules come first.
            let n_own = tagged.hits.len();
            if n_own == 0 && o.opens {
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
            self.add_paragraph_hits(&mut tagged.hits, o.fired, n_own);
            self.apply_unless(&mut tagged.hits);
            prev = Some((id, tagged.hits.clone()));
            out.push(tagged);
        }
        out
    }

    /// Paragraph rules over the findings of one paragraph: which rules fire on which finding
    /// (their terms match it and an anchor is in reach). Work proportional to the rules'
    /// matches in the paragraph.
    fn paragraph_rules(&self, para: &mut [Own]) {
        // (theme, rule, finding index) of every anchor in the paragraph.
        let anchors: Vec<(usize, usize, usize)> = para
            .iter()
            .enumerate()
            .flat_map(|(i, o)| {
                o.para.iter().filter_map(move |e| match e {
                    ParaEvent::Anchor { theme, rule } => Some((*theme, *rule, i)),
                    ParaEvent::Terms { .. } => None,
                })
            })
            .collect();
        if anchors.is_empty() {
            return;
        }
        for (i, o) in para.iter_mut().enumerate() {
            for e in std::mem::take(&mut o.para) {
                let ParaEvent::Terms { theme, rule, spans } = e else {
                    continue;
                };
                let r = &self.book.themes[theme].paragraph[rule];
                let anchored = anchors.iter().any(|&(t, ri, j)| {
                    t == theme
                        && ri == rule
                        && (!r.anchor_before || j <= i)
                        && r.within_findings.is_none_or(|w| i.abs_diff(j) <= w)
                });
                if anchored {
                    o.fired.push((theme, rule, spans));
                }
            }
        }
    }

    /// Add the themes of the paragraph rules that fired on a finding to its hits (its own and
    /// inherited ones). A rule's `unless` looks at every theme the finding has: its own,
    /// inherited, and those of the paragraph rules that fired on it, all at once. A theme the
    /// finding's own rules found keeps their words; an inherited one gets the finding's words.
    fn add_paragraph_hits(&self, hits: &mut Vec<ThemeHit>, fired: Vec<Fired>, n_own: usize) {
        if fired.is_empty() {
            return;
        }
        let present =
            |t: usize| hits.iter().any(|h| h.theme == t) || fired.iter().any(|f| f.0 == t);
        let keep: Vec<bool> = fired
            .iter()
            .map(|&(t, ri, _)| {
                !self.book.themes[t].paragraph[ri]
                    .unless
                    .iter()
                    .any(|&u| present(u))
            })
            .collect();
        let before = hits.len();
        for ((theme, _, spans), _) in fired.into_iter().zip(keep).filter(|(_, k)| *k) {
            match hits.iter().position(|h| h.theme == theme) {
                Some(k) if k < n_own => {}
                Some(k) if hits[k].inherited_from.is_some() => {
                    hits[k] = ThemeHit {
                        theme,
                        spans,
                        inherited_from: None,
                    }
                }
                Some(k) => {
                    hits[k].spans.extend(spans);
                    hits[k].spans.sort_unstable();
                    hits[k].spans.dedup();
                }
                None => hits.push(ThemeHit {
                    theme,
                    spans,
                    inherited_from: None,
                }),
            }
        }
        if hits.len() > before {
            hits.sort_by_key(|h| h.theme);
        }
    }

    /// `unless`: a theme is cancelled by the presence of another.
    fn apply_unless(&self, hits: &mut Vec<ThemeHit>) {
        let present: Vec<usize> = hits.iter().map(|h| h.theme).collect();
        hits.retain(|h| {
            !self.book.themes[h.theme]
                .unless
                .iter()
                .any(|u| present.contains(u))
        });
    }

    fn tag_inner(&self, text: &str, ws: &mut Workspace) -> Own {
        let tokens = self.analyzer.analyse(text, &mut ws.vocab);
        // Each match, once per rule that uses it, grouped by theme (a stable sort keeps the
        // matches' order within a theme). Only themes with some match are looked at.
        let Scratch {
            matches,
            events,
            terms,
            ex,
            para_terms,
            anchors,
            near_alls,
            near_any,
            near,
        } = &mut ws.scratch;
        self.matcher
            .find_into(&tokens, &ws.vocab, &mut ws.syms, matches);
        events.clear();
        let mut opens = false;
        for m in matches.iter() {
            for u in &self.uses[m.pattern] {
                match u.role {
                    Role::Opener => opens |= m.start == 0,
                    role => events.push((u.theme, role, *m)),
                }
            }
        }
        events.sort_by_key(|e| e.0);
        let mut hits = Vec::new();
        let mut para: Vec<ParaEvent> = Vec::new();
        for group in events.chunk_by(|a, b| a.0 == b.0) {
            let ti = group[0].0;
            terms.clear();
            ex.clear();
            para_terms.clear();
            anchors.clear();
            near.clear();
            for (_, role, m) in group {
                match *role {
                    Role::Term => terms.push(*m),
                    Role::Exclude => ex.push((m.start, m.end)),
                    Role::ParaTerm { rule } => para_terms.push((rule, *m)),
                    Role::ParaAnchor { rule } => anchors.push((rule, (m.start, m.end))),
                    Role::NearAll { rule, k } => near.push((rule, Some(k), (m.start, m.end))),
                    Role::NearAny { rule } => near.push((rule, None, (m.start, m.end))),
                    Role::Opener => {}
                }
            }
            let mut spans = term_spans(terms, ex);
            // Paragraph rules: an anchor counts once per rule; terms resolve leftmost-longest
            // per rule. Exclusions cancel both.
            anchors.retain(|(_, s)| !excluded(*s, ex));
            anchors.sort_unstable_by_key(|a| a.0);
            anchors.dedup_by_key(|a| a.0);
            para.extend(
                anchors
                    .iter()
                    .map(|&(rule, _)| ParaEvent::Anchor { theme: ti, rule }),
            );
            para_terms.sort_by_key(|p| p.0);
            for rule_terms in para_terms.chunk_by(|a, b| a.0 == b.0) {
                // The theme's own terms are resolved: their list holds this rule's matches.
                terms.clear();
                terms.extend(rule_terms.iter().map(|p| p.1));
                let rule_spans = term_spans(terms, ex);
                if !rule_spans.is_empty() {
                    para.push(ParaEvent::Terms {
                        theme: ti,
                        rule: rule_terms[0].0,
                        spans: rule_spans,
                    });
                }
            }
            // Only the near rules with some match can fire; each is read from its own matches
            // (a stable sort keeps their order).
            near.sort_by_key(|n| n.0);
            for rule_near in near.chunk_by(|a, b| a.0 == b.0) {
                let ri = rule_near[0].0;
                let n_all = self.near_all[ti][ri];
                if near_alls.len() < n_all {
                    near_alls.resize_with(n_all, Vec::new);
                }
                let alls = &mut near_alls[..n_all];
                alls.iter_mut().for_each(Vec::clear);
                near_any.clear();
                for &(_, k, span) in rule_near {
                    match k {
                        Some(k) => alls[k].push(span),
                        None => near_any.push(span),
                    }
                }
                let rule = &self.book.themes[ti].near[ri];
                if let Some(found) = fire_near(alls, near_any, !rule.any.is_empty(), rule.within) {
                    if !found.iter().any(|s| excluded(*s, ex)) {
                        spans.extend(found);
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
        Own {
            tagged: Tagged { tokens, hits },
            opens,
            para,
            fired: Vec::new(),
        }
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

/// True when token range `s` overlaps one of the exclusion matches `ex`.
fn excluded(s: (usize, usize), ex: &[(usize, usize)]) -> bool {
    ex.iter().any(|e| s.0 < e.1 && e.0 < s.1)
}

/// Term matches resolved leftmost-longest, as token ranges, less those an exclusion overlaps.
fn term_spans(ms: &[PhraseMatch], ex: &[(usize, usize)]) -> Vec<(usize, usize)> {
    leftmost_longest(ms)
        .into_iter()
        .map(|m| (m.start, m.end))
        .filter(|s| !excluded(*s, ex))
        .collect()
}

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
exclude = ["threshold of significant harm", "decisive action"]
[[theme.paragraph]]
anchor = ["mash", "front door", "contacts to the", "all contacts"]
terms = ["decision-making", "decisions", "next steps"]
within_findings = 2
unless = ["strategy_meetings", "consent"]

[[theme]]
id = "consent"
label = "Consent"
terms = ["consent"]
"#;

    /// Strategy meetings with a follow-on rule: the anchor must come first.
    const FOLLOW_ON: &str = r#"
continuation_openers = ["this means"]

[[theme]]
id = "strategy_meetings"
label = "Strategy meetings"
terms = ["strategy meeting"]
[[theme.paragraph]]
anchor = ["strategy meeting"]
terms = ["these meetings", "well attended", "decisions"]
anchor_before = true

[[theme]]
id = "child_protection"
label = "Child protection"
terms = ["child protection conference"]
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

    /// Themes (and matched words) of each finding of a document; findings are
    /// `(paragraph, text)`.
    fn doc_themes(t: &Tagger, doc: &[(usize, &str)]) -> Vec<Vec<(String, Vec<String>)>> {
        let mut ws = Workspace::default();
        let out = t.tag_document(
            doc.iter()
                .enumerate()
                .map(|(i, &(p, text))| (i as u32 + 1, p, text)),
            &mut ws,
        );
        out.iter()
            .zip(doc)
            .map(|(tagged, (_, text))| {
                tagged
                    .hits
                    .iter()
                    .map(|h| {
                        let mut words = Tagger::matched_words(text, &tagged.tokens, &h.spans);
                        if let Some(from) = h.inherited_from {
                            words.push(format!("<{from}"));
                        }
                        (t.book.themes[h.theme].id.clone(), words)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn paragraph_rules() {
        type Want<'a> = &'a [(&'a str, &'a [&'a str])];
        type Case<'a> = (&'a str, &'a str, &'a [(usize, &'a str, Want<'a>)]);
        let cases: &[Case] = &[
            (
                BOOK,
                "anchor before, in the same paragraph",
                &[
                    (
                        1,
                        "Social workers in the MASH respond to all contacts in a timely way.",
                        &[],
                    ),
                    (
                        1,
                        "Decision-making is clear and well recorded.",
                        &[("thresholds", &["Decision-making"])],
                    ),
                ],
            ),
            (
                BOOK,
                "anchor after counts without anchor_before",
                &[
                    (
                        1,
                        "Well-attended meetings make appropriate decisions for children.",
                        &[("thresholds", &["decisions"])],
                    ),
                    (1, "Contacts to the MASH are appropriate.", &[]),
                ],
            ),
            (
                BOOK,
                "trap: decision-making in a paragraph not about the front door",
                &[
                    (1, "Children in care live in stable homes.", &[]),
                    (1, "Decision-making is clear and well recorded.", &[]),
                    (2, "The MASH is effective.", &[]),
                ],
            ),
            (
                BOOK,
                "trap: the anchor is too far away",
                &[
                    (1, "All contacts are screened by managers.", &[]),
                    (1, "Children are seen quickly.", &[]),
                    (1, "Plans are clear.", &[]),
                    (1, "Visits are regular.", &[]),
                    (1, "Decisions are well recorded.", &[]),
                ],
            ),
            (
                BOOK,
                "trap: an excluded phrase is neither term nor anchor",
                &[
                    (1, "Staff at the front door respond well.", &[]),
                    (1, "Leaders took decisive action.", &[]),
                ],
            ),
            (
                BOOK,
                "unless: decisions made in strategy meetings or about consent",
                &[
                    (1, "The MASH is well staffed.", &[]),
                    (
                        1,
                        "Strategy meetings make the right decisions.",
                        &[("strategy_meetings", &["Strategy meetings"])],
                    ),
                    (
                        1,
                        "Decisions to override consent are recorded.",
                        &[("consent", &["consent"])],
                    ),
                ],
            ),
            (
                BOOK,
                "own words stand: the theme found by its own terms keeps them",
                &[
                    (1, "The MASH is well staffed.", &[]),
                    (
                        1,
                        "Decisions apply the threshold well.",
                        &[("thresholds", &["threshold"])],
                    ),
                ],
            ),
            (
                BOOK,
                "a continuation inherits beside its paragraph themes",
                &[
                    (
                        1,
                        "Strategy meetings are timely and the front door is busy.",
                        &[("strategy_meetings", &["Strategy meetings"])],
                    ),
                    (
                        1,
                        "This means that decisions are quick.",
                        &[("strategy_meetings", &["<1"])],
                    ),
                ],
            ),
            (
                FOLLOW_ON,
                "follow-on sentences of a strategy meeting paragraph",
                &[
                    (
                        1,
                        "Strategy meetings are held promptly.",
                        &[("strategy_meetings", &["Strategy meetings"])],
                    ),
                    (
                        1,
                        "These meetings are well attended by partners.",
                        &[("strategy_meetings", &["These meetings", "well attended"])],
                    ),
                    (
                        1,
                        "This means that risks are shared.",
                        &[("strategy_meetings", &["<2"])],
                    ),
                ],
            ),
            (
                FOLLOW_ON,
                "trap: anchor_before, the meeting named after",
                &[
                    (1, "Decisions are timely.", &[]),
                    (
                        1,
                        "Strategy meetings are held promptly.",
                        &[("strategy_meetings", &["Strategy meetings"])],
                    ),
                ],
            ),
            (
                FOLLOW_ON,
                "trap: another paragraph",
                &[
                    (
                        1,
                        "Strategy meetings are held promptly.",
                        &[("strategy_meetings", &["Strategy meetings"])],
                    ),
                    (2, "These meetings are well attended.", &[]),
                ],
            ),
        ];
        for (book, name, doc) in cases {
            let t = Tagger::new(Codebook::parse(book, "test.toml").unwrap()).unwrap();
            let input: Vec<(usize, &str)> = doc.iter().map(|(p, text, _)| (*p, *text)).collect();
            let got = doc_themes(&t, &input);
            for ((_, text, want), got) in doc.iter().zip(got) {
                let want: Vec<(String, Vec<String>)> = want
                    .iter()
                    .map(|(th, ws)| (th.to_string(), ws.iter().map(|w| w.to_string()).collect()))
                    .collect();
                assert_eq!(got, want, "{name}: {text}");
            }
        }
    }

    #[test]
    fn a_single_finding_is_its_own_paragraph() {
        let t = tagger();
        assert_eq!(
            themes(&t, "Decisions in the MASH are timely."),
            [("thresholds".to_string(), vec!["Decisions".to_string()])]
        );
        assert!(themes(&t, "Decisions are timely.").is_empty());
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
            (1, 0, "Strategy meetings are not always held."),
            (2, 0, "This means that risk is not shared."),
            (3, 0, "As a result, audits are late."),
            (4, 0, "This means little."),
        ];
        let out = t.tag_document(texts, &mut ws);
        assert_eq!(out[1].hits.len(), 1);
        assert_eq!(out[1].hits[0].inherited_from, Some(1));
        assert_eq!(t.book.themes[out[2].hits[0].theme].id, "audit_quality");
        assert_eq!(out[2].hits.len(), 1);
        assert_eq!(out[3].hits[0].inherited_from, Some(3));
    }
}
