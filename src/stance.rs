//! Stance: whether each theme on a finding is a strength, a concern, mixed or neutral.
//!
//! Cue lexicons and settings live in data files (`data/lexicon/stance.toml`, whose header
//! documents every key) and are matched on stems, like the themes. The reading, per finding:
//! 1. matches are chosen leftmost-longest, negators last: cues, hedges, pseudo-negations,
//!    neutral phrases, conditionals, terminators and reversers first, negators only in the
//!    words those leave free ("not always" is a hedge, "did not prevent" a reverser);
//! 2. contrast words ("but", "however", "although", ...) and semicolons split it into clauses;
//!    a clause that a contrast word opens also ends at its first comma ("While caseloads are
//!    manageable, some are too high");
//! 3. a conditional ("when", "where") up to the next comma in its clause sets a scene: cues and
//!    negators there count for nothing ("When concerns escalate, meetings are timely");
//! 4. each cue counts +1 (strength) or -1 (concern). A negator up to `negation_window` words
//!    before a cue in the same clause flips the first cue after it ("not timely", "no
//!    unallocated work"), unless a reverser follows the negator directly, which the negator then
//!    cancels ("has not addressed these delays"); a pseudo-negation flips nothing ("not only").
//!    A hedge is a concern that takes the strength cues in its window into itself ("not always
//!    clearly recorded"), and so does any concern for strength cues up to `absorb_window` words
//!    after it ("lack of timely discussion"). A reverser near a concern turns it into a strength
//!    ("delays have reduced", "avoid drift");
//! 5. with `bare_negation`, a negator that flipped nothing is a concern in a clause that has no
//!    cue of its own ("strategy meetings have not taken place");
//! 6. a clause's direction is the sign of its cues (concerns weighted by `concern_weight`), or
//!    `tie` when cues of both kinds balance;
//! 7. a theme takes the directions of the clauses its words stand in, plus any following clause
//!    where no theme's words stand ("..., though this is not consistent"); `mixed` when they
//!    disagree. When those are silent the finding as a whole decides, and a finding without any
//!    cue takes the `[silent]` stance of its section;
//! 8. section: in an `improve` section every theme is a concern; in a `context` section a theme
//!    takes `silent.context` unless its own clause carries a cue.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::analyse::{Token, Vocabulary};
use crate::codebook::line_of;
use crate::model::{Finding, Section, Stance};
use crate::phrase::{leftmost_longest_into, PhraseMatch, PhraseMatcher, SymCache};
use crate::tag::{Tagged, ThemeHit, Workspace};

/// The lexicon file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    strength: Vec<Spanned<String>>,
    concern: Vec<Spanned<String>>,
    negators: Vec<Spanned<String>>,
    #[serde(default)]
    hedges: Vec<Spanned<String>>,
    #[serde(default)]
    pseudo_negations: Vec<Spanned<String>>,
    #[serde(default)]
    neutral: Vec<Spanned<String>>,
    #[serde(default)]
    conditionals: Vec<Spanned<String>>,
    #[serde(default)]
    terminators: Vec<Spanned<String>>,
    #[serde(default)]
    reversers: Vec<Spanned<String>>,
    #[serde(default = "default_window")]
    negation_window: usize,
    #[serde(default)]
    bare_negation: bool,
    #[serde(default = "default_weight")]
    concern_weight: i32,
    #[serde(default)]
    absorb_window: usize,
    #[serde(default)]
    tie: Option<Spanned<String>>,
    #[serde(default)]
    silent: SilentFile,
}

/// Stance of a theme on a finding without any cue, per section, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SilentFile {
    overview: Option<Spanned<String>>,
    findings: Option<Spanned<String>>,
    context: Option<Spanned<String>>,
    other: Option<Spanned<String>>,
}

fn default_window() -> usize {
    4
}

fn default_weight() -> i32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Role {
    Strength,
    Concern,
    Hedge,
    Negator,
    Pseudo,
    Neutral,
    Conditional,
    Terminator,
    Reverser,
}

impl Role {
    fn is_cue(self) -> bool {
        matches!(self, Role::Strength | Role::Concern | Role::Hedge)
    }
}

/// Direction of one clause: which ways its cues point once balanced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Direction {
    pos: bool,
    neg: bool,
}

impl Direction {
    fn of(stance: Stance) -> Direction {
        match stance {
            Stance::Strength => Direction {
                pos: true,
                neg: false,
            },
            Stance::Concern => Direction {
                pos: false,
                neg: true,
            },
            Stance::Mixed => Direction {
                pos: true,
                neg: true,
            },
            Stance::Neutral => Direction::default(),
        }
    }

    fn is_silent(self) -> bool {
        !self.pos && !self.neg
    }
}

/// The compiled stance lexicon.
pub struct StanceReader {
    matcher: PhraseMatcher,
    roles: Vec<Role>,
    window: usize,
    bare_negation: bool,
    concern_weight: i32,
    absorb_window: usize,
    tie: Stance,
    silent_overview: Stance,
    silent_findings: Stance,
    silent_context: Stance,
    silent_other: Stance,
}

/// The stance of one theme and the words that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeStance {
    pub stance: Stance,
    /// Cue words as written (with their negator or reverser when one applied).
    pub cues: Vec<String>,
}

/// The lists [`StanceReader::read`] works in, kept by each worker and reused from finding to
/// finding: the symbol memo of the lexicon's matcher, its matches, per token the clause it
/// is in, whether a clause ends there and whether a conditional scene covers it, which
/// negators a cue has used, and the cues found.
#[derive(Default)]
pub struct StanceScratch {
    syms: SymCache,
    all: Vec<PhraseMatch>,
    clause_of: Vec<usize>,
    terminator_at: Vec<bool>,
    scene: Vec<bool>,
    negator_used: Vec<bool>,
    cues: Vec<Cue>,
    /// The matches read ([`StanceReader::resolve`]), and the negators set aside meanwhile.
    found: Vec<PhraseMatch>,
    negators: Vec<PhraseMatch>,
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
            anyhow::anyhow!(
                "stance lexicon {file} line {line}: {}",
                crate::codebook::one_line(e.message())
            )
        })?;
        let analyzer = crate::analyse::Analyzer::english();
        let mut patterns = Vec::new();
        let mut roles = Vec::new();
        let mut problems = Vec::new();
        let groups = [
            (&raw.strength, Role::Strength),
            (&raw.concern, Role::Concern),
            (&raw.hedges, Role::Hedge),
            (&raw.negators, Role::Negator),
            (&raw.pseudo_negations, Role::Pseudo),
            (&raw.neutral, Role::Neutral),
            (&raw.conditionals, Role::Conditional),
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
                // A reverser may also be a cue or a negator; any other phrase has one role only.
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
        let mut stance_key = |v: &Option<Spanned<String>>, key: &str, default: Stance| {
            match v {
            None => default,
            Some(s) => Stance::parse(s.get_ref()).unwrap_or_else(|| {
                problems.push(format!(
                    "{file} line {}: {key} = '{}' is not a stance; use strength, concern, mixed or neutral",
                    line_of(text, s.span().start),
                    s.get_ref()
                ));
                default
            }),
        }
        };
        let tie = stance_key(&raw.tie, "tie", Stance::Mixed);
        let silent_overview = stance_key(&raw.silent.overview, "silent.overview", Stance::Neutral);
        let silent_findings = stance_key(&raw.silent.findings, "silent.findings", Stance::Neutral);
        let silent_context = stance_key(&raw.silent.context, "silent.context", Stance::Neutral);
        let silent_other = stance_key(&raw.silent.other, "silent.other", Stance::Neutral);
        if !problems.is_empty() {
            anyhow::bail!("stance lexicon has problems:\n  {}", problems.join("\n  "));
        }
        Ok(StanceReader {
            matcher: PhraseMatcher::new(&patterns)?,
            roles,
            window: raw.negation_window,
            bare_negation: raw.bare_negation,
            concern_weight: raw.concern_weight,
            absorb_window: raw.absorb_window,
            tie,
            silent_overview,
            silent_findings,
            silent_context,
            silent_other,
        })
    }

    /// The stance of a theme on a finding without any cue, by section.
    fn silent(&self, section: Section) -> Stance {
        match section {
            Section::Overview => self.silent_overview,
            Section::Findings => self.silent_findings,
            Section::Context => self.silent_context,
            Section::Other => self.silent_other,
            Section::Improve => Stance::Concern,
        }
    }

    /// The matches that are read: cues, hedges, pseudo-negations, terminators and reversers
    /// leftmost-longest first ("not always" is a hedge, "did not prevent" a reverser), then
    /// negators in the words those leave free. `found` gets them; `negators` is scratch.
    fn resolve(
        &self,
        all: &[PhraseMatch],
        found: &mut Vec<PhraseMatch>,
        negators: &mut Vec<PhraseMatch>,
    ) {
        let is_negator = |m: &PhraseMatch| self.roles[m.pattern] == Role::Negator;
        found.clear();
        leftmost_longest_into(all.iter().filter(|m| !is_negator(m)).copied(), found);
        negators.clear();
        negators.extend(
            all.iter()
                .filter(|m| is_negator(m))
                .filter(|n| !found.iter().any(|m| n.start < m.end && m.start < n.end)),
        );
        leftmost_longest_into(negators.iter().copied(), found);
        found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    }

    /// [`StanceReader::read`] for a finding as the tagger left it, with the worker's caches.
    pub fn read_tagged(
        &self,
        finding: &Finding,
        tagged: &Tagged,
        ws: &mut Workspace,
    ) -> Vec<ThemeStance> {
        self.read(
            &finding.text,
            &tagged.tokens,
            &ws.vocab,
            &mut ws.stance,
            &tagged.hits,
            finding.section,
        )
    }

    /// Decide the stance of each hit on one finding (same order as `hits`).
    pub fn read(
        &self,
        text: &str,
        tokens: &[Token],
        vocab: &Vocabulary,
        scratch: &mut StanceScratch,
        hits: &[ThemeHit],
        section: Section,
    ) -> Vec<ThemeStance> {
        if hits.is_empty() {
            return Vec::new();
        }
        let StanceScratch {
            syms,
            all,
            clause_of,
            terminator_at,
            scene,
            negator_used,
            cues,
            found,
            negators,
        } = scratch;
        self.matcher.find_into(tokens, vocab, syms, all);
        self.resolve(all, found, negators);
        let found = &*found;
        // Clause index per token.
        clause_of.clear();
        clause_of.resize(tokens.len(), 0);
        let mut clause = 0;
        terminator_at.clear();
        terminator_at.resize(tokens.len(), false);
        for m in found {
            if self.roles[m.pattern] == Role::Terminator {
                terminator_at[m.start] = true;
            }
        }
        let comma_before =
            |i: usize| i > 0 && text[tokens[i - 1].end..tokens[i].start].contains(',');
        // A clause that opens with a contrast word ("While caseloads are manageable, ...")
        // also ends at its first comma.
        let mut leading_contrast = false;
        let mut clause_start = 0;
        // Most findings have no semicolon: then no gap between words needs looking at.
        let any_semicolon = memchr::memchr(b';', text.as_bytes()).is_some();
        for (i, t) in tokens.iter().enumerate() {
            let semicolon =
                any_semicolon && i > 0 && text[tokens[i - 1].end..t.start].contains(';');
            if terminator_at[i] || semicolon || (leading_contrast && comma_before(i)) {
                clause += 1;
                clause_start = i;
                leading_contrast = terminator_at[i] && i == clause_start;
            } else if terminator_at[i] && i == clause_start {
                leading_contrast = true;
            }
            clause_of[i] = clause;
        }
        let n_clauses = clause + 1;
        let role = |m: &PhraseMatch| self.roles[m.pattern];
        // A conditional ("when", "where") up to the next comma in its clause sets a scene:
        // its cues count for nothing ("When concerns escalate, meetings are timely").
        scene.clear();
        scene.resize(tokens.len(), false);
        for m in found.iter().filter(|m| role(m) == Role::Conditional) {
            let c = clause_of[m.start];
            if let Some(close) = (m.end..tokens.len())
                .take_while(|&i| clause_of[i] == c)
                .find(|&i| comma_before(i))
            {
                scene[m.start..close].iter_mut().for_each(|x| *x = true);
            }
        }
        cues.clear();
        negator_used.clear();
        negator_used.resize(found.len(), false);
        for (idx, m) in found.iter().enumerate() {
            let base = match role(m) {
                _ if scene[m.start] => continue,
                Role::Strength => 1,
                Role::Concern | Role::Hedge => -1,
                _ => continue,
            };
            let c = clause_of[m.start];
            let mut polarity = base;
            let mut shown = (m.start, m.end);
            let in_reach = |n: &PhraseMatch| {
                clause_of[n.start] == c && m.start.saturating_sub(n.end) <= self.window
            };
            // Nearest negator (or, before a strength cue, hedge) before the cue, in reach.
            let before = found[..idx].iter().enumerate().rev().find(|(_, n)| {
                in_reach(n)
                    && (role(n) == Role::Negator
                        || (base > 0 && role(n) == Role::Hedge)
                        || role(n) == Role::Pseudo)
            });
            match before {
                // A hedge takes the strength cues after it into itself ("not always clearly").
                Some((_, n)) if role(n) == Role::Hedge => polarity = 0,
                Some((ni, n)) if role(n) == Role::Negator && role(m) != Role::Hedge => {
                    // A cue between the negator and this one takes the negation instead, and so
                    // does a reverser right after the negator ("not addressed these delays").
                    let blocked = found[ni + 1..idx].iter().any(|o| role(o).is_cue())
                        || all.iter().any(|r| {
                            self.roles[r.pattern] == Role::Reverser
                                && r.start >= n.end
                                && r.start - n.end <= 1
                                && r.start < m.start
                        });
                    if !blocked {
                        polarity = -polarity;
                        shown = (n.start, m.end);
                        negator_used[ni] = true;
                    }
                }
                _ => {}
            }
            // A strength cue soon after a concern names what is lacking ("lack of timely
            // discussion", "delays in effective plans"): the concern takes it into itself.
            if polarity > 0
                && cues.iter().any(|q| {
                    q.polarity < 0
                        && q.clause == c
                        && q.end <= m.start
                        && m.start - q.end <= self.absorb_window
                })
            {
                polarity = 0;
            }
            if polarity < 0 && role(m) == Role::Concern {
                // Reversers are looked for among all matches: a word can be both a cue and a reverser.
                // A negated reverser reverses nothing ("has not addressed these shortfalls").
                let negated = |r: &PhraseMatch| {
                    found.iter().any(|n| {
                        role(n) == Role::Negator
                            && n.end <= r.start
                            && r.start - n.end <= 1
                            && clause_of[n.start] == c
                    })
                };
                if let Some(r) = all.iter().find(|r| {
                    self.roles[r.pattern] == Role::Reverser
                        && !negated(r)
                        && clause_of[r.start] == c
                        && (r.start.saturating_sub(m.end) <= self.window && r.start >= m.end
                            || m.start.saturating_sub(r.end) <= 2 && r.end <= m.start)
                }) {
                    polarity = -polarity;
                    shown = (shown.0.min(r.start), shown.1.max(r.end));
                }
            }
            if polarity != 0 {
                cues.push(Cue {
                    start: m.start,
                    end: m.end,
                    clause: c,
                    polarity,
                    shown,
                });
            }
        }
        // A negation with no cue to turn is a concern in a clause that has no cue of its own
        // ("strategy meetings have not taken place").
        if self.bare_negation {
            for (ni, n) in found.iter().enumerate() {
                let c = clause_of[n.start];
                if role(n) == Role::Negator
                    && !negator_used[ni]
                    && !scene[n.start]
                    && !cues.iter().any(|q| q.clause == c)
                {
                    cues.push(Cue {
                        start: n.start,
                        end: n.end,
                        clause: c,
                        polarity: -1,
                        shown: (n.start, n.end),
                    });
                }
            }
        }
        let directions: Vec<Direction> = (0..n_clauses)
            .map(|c| {
                let own = cues.iter().filter(|q| q.clause == c);
                let sum: i32 = own
                    .clone()
                    .map(|q| {
                        if q.polarity < 0 {
                            q.polarity * self.concern_weight
                        } else {
                            q.polarity
                        }
                    })
                    .sum();
                let any = own.clone().next().is_some();
                match sum.signum() {
                    1 => Direction::of(Stance::Strength),
                    -1 => Direction::of(Stance::Concern),
                    _ if any => Direction::of(self.tie),
                    _ => Direction::default(),
                }
            })
            .collect();
        // A clause where no theme's words stand speaks of the themes of the clause before it
        // ("Some children benefit from creative direct work, though this is not consistent").
        let mut themed = vec![false; n_clauses];
        for h in hits {
            for (s, _) in h.spans.iter().filter(|(s, _)| *s < tokens.len()) {
                themed[clause_of[*s]] = true;
            }
        }
        let mut owner: Vec<Option<usize>> = vec![None; n_clauses];
        let mut last_themed = None;
        for c in 0..n_clauses {
            if themed[c] {
                last_themed = Some(c);
            } else {
                owner[c] = last_themed;
            }
        }
        hits.iter()
            .map(|h| {
                let mut theme_clauses: Vec<usize> = h
                    .spans
                    .iter()
                    .filter(|(s, _)| *s < tokens.len())
                    .map(|(s, _)| clause_of[*s])
                    .collect();
                let orphans: Vec<usize> = (0..n_clauses)
                    .filter(|_| section != Section::Context)
                    .filter(|&c| owner[c].is_some_and(|o| theme_clauses.contains(&o)))
                    .collect();
                theme_clauses.extend(orphans);
                theme_clauses.sort_unstable();
                theme_clauses.dedup();
                let mut used: Vec<&Cue> = cues
                    .iter()
                    .filter(|q| theme_clauses.contains(&q.clause))
                    .collect();
                let mut dir = theme_clauses
                    .iter()
                    .fold(Direction::default(), |d, &c| Direction {
                        pos: d.pos || directions[c].pos,
                        neg: d.neg || directions[c].neg,
                    });
                let own_words = !dir.is_silent();
                if dir.is_silent() && section != Section::Context {
                    // The theme's clauses are silent: the finding as a whole decides.
                    used = cues.iter().collect();
                    dir = directions
                        .iter()
                        .fold(Direction::default(), |d, e| Direction {
                            pos: d.pos || e.pos,
                            neg: d.neg || e.neg,
                        });
                }
                let mut stance = match (dir.pos, dir.neg) {
                    (true, true) => Stance::Mixed,
                    (true, false) => Stance::Strength,
                    (false, true) => Stance::Concern,
                    (false, false) => self.silent(section),
                };
                if section == Section::Improve {
                    stance = Stance::Concern;
                } else if section == Section::Context && !own_words {
                    stance = self.silent(section);
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
negation_window = 4
absorb_window = 4
bare_negation = true
tie = "strength"
strength = ["effective*", "timely*", "robust", "well understood", "strong", "improved*", "in most cases",
  "thorough", "prompt", "appropriate", "clear", "good", "manageab*", "consistent*", "ensur*"]
concern = ["delay", "backlog", "inconsistent", "variable", "too high", "weak", "poor", "lack of",
  "insufficient", "unallocated", "parallel", "need to improve", "too", "remain high", "limited", "should"]
hedges = ["not always", "not yet", "not consistently"]
negators = ["not", "no", "never", "without", "no evidence of", "did not", "have not"]
pseudo_negations = ["not only", "no doubt", "no further action"]
neutral = ["effectiveness*"]
conditionals = ["when", "where"]
terminators = ["but", "however", "although", "though", "while", "despite"]
reversers = ["reduced", "reduce", "fewer", "addressed", "did not prevent", "prevent"]

[silent]
findings = "strength"
overview = "strength"
context = "neutral"
"#;

    /// A reader with the vocabulary and scratch lists it keeps from finding to finding.
    struct Worker {
        reader: StanceReader,
        analyzer: Analyzer,
        vocab: Vocabulary,
        scratch: StanceScratch,
    }

    impl Worker {
        fn new() -> Self {
            Worker {
                reader: StanceReader::parse(LEX, "lex.toml").unwrap(),
                analyzer: Analyzer::english(),
                vocab: Vocabulary::new(),
                scratch: StanceScratch::default(),
            }
        }

        /// Stance of the theme whose words are `theme_words` (every occurrence is a span).
        fn read(
            &mut self,
            text: &str,
            theme_words: &[&str],
            section: Section,
        ) -> (Stance, Vec<String>) {
            let toks = self.analyzer.analyse(text, &mut self.vocab);
            let spans: Vec<(usize, usize)> = toks
                .iter()
                .enumerate()
                .filter(|(_, t)| {
                    theme_words
                        .iter()
                        .any(|w| text[t.start..t.end].eq_ignore_ascii_case(w))
                })
                .map(|(i, _)| (i, i + 1))
                .collect();
            assert!(!spans.is_empty(), "theme word in text: {text}");
            let hit = ThemeHit {
                theme: 0,
                spans,
                inherited_from: None,
            };
            let s = self
                .reader
                .read(text, &toks, &self.vocab, &mut self.scratch, &[hit], section)
                .remove(0);
            (s.stance, s.cues)
        }
    }

    /// [`Worker::read`] by a fresh worker.
    fn read(text: &str, theme_words: &[&str], section: Section) -> (Stance, Vec<String>) {
        Worker::new().read(text, theme_words, section)
    }

    #[test]
    fn table() {
        use Stance::*;
        let f = Section::Findings;
        let cases: &[(&str, &[&str], Section, Stance)] = &[
            ("Strategy meetings are timely and identify risk appropriately.", &["meetings"], f, Strength),
            ("There are delays, sometimes of several weeks, in the police referring concerns.", &["police"], f, Concern),
            // Negation flips a cue; a pseudo-negation does not.
            ("Social workers have no unallocated work.", &["work"], f, Strength),
            ("Strategy meetings are not timely.", &["meetings"], f, Concern),
            ("There is no evidence of delay in police notifications.", &["police"], f, Strength),
            ("Assessments are not only timely but thorough.", &["Assessments"], f, Strength),
            ("Few contacts now result in no further action.", &["contacts"], f, Strength),
            // Reversers, and a negated reverser.
            ("Delays in police notifications have reduced.", &["police"], f, Strength),
            ("Staffing pressures did not prevent the development of effective services.", &["Staffing"], f, Strength),
            ("Management oversight has not addressed these delays in practice.", &["oversight"], f, Concern),
            ("Leaders have acted to prevent delay for children.", &["Leaders"], f, Strength),
            // Hedges keep their direction and take the strength cue after them.
            ("Management oversight is not always evident.", &["oversight"], f, Concern),
            ("The quality of assessments is not yet consistently good.", &["assessments"], f, Concern),
            ("Feedback to referrers is not always clearly recorded.", &["Feedback"], f, Concern),
            ("Thresholds are understood in most cases.", &["Thresholds"], f, Strength),
            ("Caseloads remain high.", &["Caseloads"], f, Concern),
            // A concern takes the strength cue that names what is lacking.
            ("There is a lack of timely strategy discussions.", &["strategy"], f, Concern),
            ("This resulted in delays in effective plans being put in place.", &["plans"], f, Concern),
            ("Assessments are too focused on parents.", &["Assessments"], f, Concern),
            // A negation with nothing to turn is a concern.
            ("In a significant number of cases, strategy meetings have not taken place for several weeks.", &["strategy"], f, Concern),
            // A conditional sets a scene; its cues do not count.
            ("When concerns escalate, strategy meetings take place in a timely manner.", &["strategy"], f, Strength),
            ("When early help is not effective, step-up to social care is timely.", &["social"], f, Strength),
            // Contrast: the theme's own clause decides; in both clauses, mixed.
            ("Information sharing is effective, but investigations often result in professionals working in parallel.", &["sharing"], f, Mixed),
            ("Information sharing is effective, but investigations often result in professionals working in parallel.", &["sharing", "professionals"], f, Mixed),
            ("While caseloads are mostly manageable, some caseloads are too high.", &["caseloads"], f, Mixed),
            ("Despite the delays, strategy meetings are effective.", &["strategy"], f, Strength),
            // A clause without theme words speaks of the theme before it.
            ("Some children benefit from robust direct work, though this is not consistent.", &["children"], f, Mixed),
            // No cue: the section decides.
            ("The police attend all strategy meetings.", &["police"], f, Strength),
            ("Inspectors looked at the arrangements for thresholds.", &["thresholds"], Section::Context, Neutral),
            ("Inspectors considered the effectiveness of early help.", &["help"], Section::Context, Neutral),
            ("The quality of supervision.", &["supervision"], Section::Improve, Concern),
            ("The authority has a strong audit programme.", &["audit"], Section::Context, Strength),
            ("Audits were looked at; the service is strong.", &["Audits"], Section::Context, Neutral),
        ];
        for (text, words, section, want) in cases {
            assert_eq!(read(text, words, *section).0, *want, "{text}");
        }
        // One worker reading every case, forwards and then backwards, so that long findings
        // come before short ones: what it keeps from one finding never reaches the next.
        let mut worker = Worker::new();
        for (text, words, section, _) in cases.iter().chain(cases.iter().rev()) {
            assert_eq!(
                worker.read(text, words, *section),
                read(text, words, *section),
                "{text}"
            );
        }
    }

    #[test]
    fn theme_in_both_directions_is_mixed() {
        let (stance, cues) = read(
            "Strategy meetings are timely, but strategy meetings are inconsistent in quality.",
            &["meetings"],
            Section::Findings,
        );
        assert_eq!(stance, Stance::Mixed);
        assert_eq!(cues, ["timely", "inconsistent"]);
    }

    #[test]
    fn cues_show_the_negator() {
        assert_eq!(
            read(
                "Strategy meetings are not timely.",
                &["meetings"],
                Section::Findings
            )
            .1,
            ["not timely"]
        );
    }

    #[test]
    fn bad_setting_is_reported() {
        let lex = LEX.replace("tie = \"strength\"", "tie = \"maybe\"");
        let e = StanceReader::parse(&lex, "x.toml").err().expect("error");
        assert!(e.to_string().contains("not a stance"), "{e}");
    }
}
