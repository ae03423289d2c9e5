//! Stance: whether each theme on a finding is a strength, a concern, mixed or neutral.
//!
//! Cue lexicons live in data files (`data/lexicon/stance.toml`) and are matched on stems,
//! like the themes, leftmost-longest so that "not always" is read as one hedge rather than a
//! negator and a cue. The reading, per finding:
//! 1. contrast words ("but", "however", "although", ...) and semicolons split it into clauses;
//! 2. each cue counts +1 (strength) or -1 (concern); a negator up to `negation_window` words
//!    before a cue in the same clause flips it ("not timely", "no unallocated work"); a
//!    pseudo-negation ("not only", "no doubt") flips nothing; a reverser near a concern cue
//!    turns it into a strength ("delays have reduced");
//! 3. a clause's direction is the sign of its cues; a theme takes the directions of the clauses
//!    its words stand in (the whole finding when those are silent), `mixed` when they disagree;
//! 4. section prior: in an `improve` section every theme is a concern; in a `context` section
//!    a theme is neutral unless its own clause carries a cue.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::analyse::{Token, Vocabulary};
use crate::codebook::line_of;
use crate::model::{Section, Stance};
use crate::phrase::{leftmost_longest, PhraseMatcher, SymCache};
use crate::tag::ThemeHit;

/// The lexicon file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    strength: Vec<Spanned<String>>,
    concern: Vec<Spanned<String>>,
    negators: Vec<Spanned<String>>,
    #[serde(default)]
    pseudo_negations: Vec<Spanned<String>>,
    #[serde(default)]
    terminators: Vec<Spanned<String>>,
    #[serde(default)]
    reversers: Vec<Spanned<String>>,
    #[serde(default = "default_window")]
    negation_window: usize,
}

fn default_window() -> usize {
    4
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Role {
    Strength,
    Concern,
    Negator,
    Pseudo,
    Terminator,
    Reverser,
}

/// The compiled stance lexicon.
pub struct StanceReader {
    matcher: PhraseMatcher,
    roles: Vec<Role>,
    window: usize,
}

/// The stance of one theme and the words that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeStance {
    pub stance: Stance,
    /// Cue words as written (with their negator or reverser when one applied).
    pub cues: Vec<String>,
}

struct Cue {
    start: usize,
    end: usize,
    clause: usize,
    polarity: i32,
    /// Token range of the words to show (cue plus its negator or reverser).
    shown: (usize, usize),
}

impl StanceReader {
    /// Load the lexicon file.
    pub fn load(path: &Path) -> anyhow::Result<StanceReader> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read stance lexicon {}: {e}; check the path or the pipeline's `lexicon` key",
                path.display()
            )
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse lexicon text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> anyhow::Result<StanceReader> {
        let raw: LexiconFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            anyhow::anyhow!("stance lexicon {file} line {line}: {}", e.message())
        })?;
        let analyzer = crate::analyse::Analyzer::english();
        let mut patterns = Vec::new();
        let mut roles = Vec::new();
        let mut problems = Vec::new();
        let groups = [
            (&raw.strength, Role::Strength),
            (&raw.concern, Role::Concern),
            (&raw.negators, Role::Negator),
            (&raw.pseudo_negations, Role::Pseudo),
            (&raw.terminators, Role::Terminator),
            (&raw.reversers, Role::Reverser),
        ];
        let mut seen: std::collections::HashMap<(Vec<String>, bool), Role> =
            std::collections::HashMap::new();
        for (list, role) in groups {
            for s in list {
                let pattern = match crate::codebook::parse_pattern(&analyzer, s.get_ref(), "cue") {
                    Ok(p) => p,
                    Err(m) => {
                        problems.push(format!(
                            "{file} line {}: {m}",
                            line_of(text, s.span().start)
                        ));
                        continue;
                    }
                };
                // A reverser may also be a cue; any other phrase has one role only.
                if role != Role::Reverser {
                    let key = (pattern.stems.clone(), pattern.prefix_last);
                    if let Some(prev) = seen.insert(key, role) {
                        if prev != role {
                            problems.push(format!(
                                "{file} line {}: '{}' is listed as both {prev:?} and {role:?}; keep it in one list",
                                line_of(text, s.span().start),
                                s.get_ref()
                            ));
                        }
                    }
                }
                patterns.push(pattern);
                roles.push(role);
            }
        }
        if !problems.is_empty() {
            anyhow::bail!("stance lexicon has problems:\n  {}", problems.join("\n  "));
        }
        Ok(StanceReader {
            matcher: PhraseMatcher::new(&patterns)?,
            roles,
            window: raw.negation_window,
        })
    }

    /// Decide the stance of each hit on one finding (same order as `hits`).
    pub fn read(
        &self,
        text: &str,
        tokens: &[Token],
        vocab: &Vocabulary,
        cache: &mut SymCache,
        hits: &[ThemeHit],
        section: Section,
    ) -> Vec<ThemeStance> {
        if hits.is_empty() {
            return Vec::new();
        }
        let all = self.matcher.find(tokens, vocab, cache);
        // When two lexicon phrases overlap, the longer reading wins ("not always" over "not").
        let found = leftmost_longest(&all);
        // Clause index per token.
        let mut clause_of = vec![0usize; tokens.len()];
        let mut clause = 0;
        let mut terminator_at = vec![false; tokens.len()];
        for m in &found {
            if self.roles[m.pattern] == Role::Terminator {
                terminator_at[m.start] = true;
            }
        }
        for (i, t) in tokens.iter().enumerate() {
            let semicolon = i > 0 && text[tokens[i - 1].end..t.start].contains(';');
            if terminator_at[i] || semicolon {
                clause += 1;
            }
            clause_of[i] = clause;
        }
        let n_clauses = clause + 1;
        let mut cues: Vec<Cue> = Vec::new();
        for (idx, m) in found.iter().enumerate() {
            let base = match self.roles[m.pattern] {
                Role::Strength => 1,
                Role::Concern => -1,
                _ => continue,
            };
            let c = clause_of[m.start];
            let mut polarity = base;
            let mut shown = (m.start, m.end);
            // Nearest negator before the cue, within the window, same clause.
            if let Some(neg) = found[..idx].iter().rev().find(|n| {
                self.roles[n.pattern] == Role::Negator
                    && clause_of[n.start] == c
                    && m.start.saturating_sub(n.end) <= self.window
            }) {
                // A cue between the negator and this one takes the negation instead.
                let blocked = found[..idx].iter().any(|o| {
                    o.start >= neg.end
                        && matches!(self.roles[o.pattern], Role::Strength | Role::Concern)
                });
                if !blocked {
                    polarity = -polarity;
                    shown = (neg.start, m.end);
                }
            }
            if polarity < 0 {
                // Reversers are looked for among all matches: a word can be both a cue and a reverser.
                if let Some(r) = all.iter().find(|r| {
                    self.roles[r.pattern] == Role::Reverser
                        && clause_of[r.start] == c
                        && (r.start.saturating_sub(m.end) <= self.window && r.start >= m.end
                            || m.start.saturating_sub(r.end) <= 2 && r.end <= m.start)
                }) {
                    polarity = -polarity;
                    shown = (shown.0.min(r.start), shown.1.max(r.end));
                }
            }
            cues.push(Cue {
                start: m.start,
                end: m.end,
                clause: c,
                polarity,
                shown,
            });
        }
        let _ = n_clauses;
        let clause_sign = |c: usize| -> i32 {
            cues.iter()
                .filter(|q| q.clause == c)
                .map(|q| q.polarity)
                .sum::<i32>()
                .signum()
        };
        hits.iter()
            .map(|h| {
                let mut theme_clauses: Vec<usize> = h
                    .spans
                    .iter()
                    .filter(|(s, _)| *s < tokens.len())
                    .map(|(s, _)| clause_of[*s])
                    .collect();
                theme_clauses.sort_unstable();
                theme_clauses.dedup();
                let mut used: Vec<&Cue> = cues
                    .iter()
                    .filter(|q| theme_clauses.contains(&q.clause))
                    .collect();
                let mut signs: Vec<i32> = theme_clauses
                    .iter()
                    .map(|&c| clause_sign(c))
                    .filter(|s| *s != 0)
                    .collect();
                let own_words = !signs.is_empty();
                if signs.is_empty() && section != Section::Context {
                    // The theme's clauses are silent: the finding as a whole decides.
                    used = cues.iter().collect();
                    let mut cl: Vec<usize> = cues.iter().map(|q| q.clause).collect();
                    cl.dedup();
                    signs = cl
                        .into_iter()
                        .map(clause_sign)
                        .filter(|s| *s != 0)
                        .collect();
                }
                let pos = signs.iter().any(|s| *s > 0);
                let neg = signs.iter().any(|s| *s < 0);
                let mut stance = match (pos, neg) {
                    (true, true) => Stance::Mixed,
                    (true, false) => Stance::Strength,
                    (false, true) => Stance::Concern,
                    (false, false) => Stance::Neutral,
                };
                if section == Section::Improve {
                    stance = Stance::Concern;
                } else if section == Section::Context && !own_words {
                    stance = Stance::Neutral;
                    used.clear();
                }
                let mut words: Vec<String> = Vec::new();
                for q in used {
                    if q.start < q.end && q.shown.1 <= tokens.len() {
                        let w =
                            text[tokens[q.shown.0].start..tokens[q.shown.1 - 1].end].to_string();
                        if !words.contains(&w) {
                            words.push(w);
                        }
                    }
                }
                ThemeStance {
                    stance,
                    cues: words,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::Analyzer;

    const LEX: &str = r#"
strength = ["effective", "timely", "robust", "well understood", "strong", "improved", "in most cases", "thorough", "prompt"]
concern = ["delay", "backlog", "inconsistent", "variable", "too high", "weak", "poor", "lack of", "insufficient", "not always", "not yet", "unallocated", "parallel"]
negators = ["not", "no", "never", "without", "no evidence of", "did not"]
pseudo_negations = ["not only", "no doubt"]
terminators = ["but", "however", "although"]
reversers = ["reduced", "reduce", "fewer"]
"#;

    fn read(text: &str, theme_word: &str, section: Section) -> (Stance, Vec<String>) {
        let r = StanceReader::parse(LEX, "lex.toml").unwrap();
        let a = Analyzer::english();
        let mut v = Vocabulary::new();
        let toks = a.analyse(text, &mut v);
        let pos = toks
            .iter()
            .position(|t| text[t.start..t.end].eq_ignore_ascii_case(theme_word))
            .expect("theme word in text");
        let hit = ThemeHit {
            theme: 0,
            spans: vec![(pos, pos + 1)],
            inherited_from: None,
        };
        let mut c = SymCache::default();
        let s = r.read(text, &toks, &v, &mut c, &[hit], section).remove(0);
        (s.stance, s.cues)
    }

    #[test]
    fn table() {
        use Stance::*;
        let f = Section::Findings;
        let cases: &[(&str, &str, Section, Stance)] = &[
            ("Strategy meetings are timely and identify risk appropriately.", "meetings", f, Strength),
            ("There are delays, sometimes of several weeks, in the police referring concerns.", "police", f, Concern),
            ("Social workers have no unallocated work.", "work", f, Strength),
            ("Strategy meetings are not timely.", "meetings", f, Concern),
            ("There is no evidence of delay in police notifications.", "police", f, Strength),
            ("Assessments are not only timely but thorough.", "Assessments", f, Strength),
            ("Delays in police notifications have reduced.", "police", f, Strength),
            ("Information sharing is effective, but investigations often result in professionals working in parallel.", "sharing", f, Strength),
            ("Management oversight is not always evident.", "oversight", f, Concern),
            ("Thresholds are understood in most cases.", "Thresholds", f, Strength),
            ("Inspectors looked at the arrangements for thresholds.", "thresholds", f, Neutral),
            ("The quality of supervision.", "supervision", Section::Improve, Concern),
            ("The authority has a strong audit programme.", "audit", Section::Context, Strength),
            ("Audits were looked at; the service is strong.", "Audits", Section::Context, Neutral),
        ];
        for (text, word, section, want) in cases {
            assert_eq!(read(text, word, *section).0, *want, "{text}");
        }
    }

    #[test]
    fn theme_in_both_directions_is_mixed() {
        let r = StanceReader::parse(LEX, "lex.toml").unwrap();
        let a = Analyzer::english();
        let text =
            "Strategy meetings are timely, but strategy meetings are inconsistent in quality.";
        let mut v = Vocabulary::new();
        let toks = a.analyse(text, &mut v);
        let hit = ThemeHit {
            theme: 0,
            spans: vec![(0, 2), (6, 8)],
            inherited_from: None,
        };
        let mut c = SymCache::default();
        let s = r
            .read(text, &toks, &v, &mut c, &[hit], Section::Findings)
            .remove(0);
        assert_eq!(s.stance, Stance::Mixed);
        assert_eq!(s.cues, ["timely", "inconsistent"]);
    }

    #[test]
    fn cues_show_the_negator() {
        assert_eq!(
            read(
                "Strategy meetings are not timely.",
                "meetings",
                Section::Findings
            )
            .1,
            ["not timely"]
        );
    }
}
