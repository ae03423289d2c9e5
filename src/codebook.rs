//! The codebook: an editable TOML file of themes and the rules that find them.
//!
//! `Codebook::load` reads and validates a file, collecting every mistake at once (theme,
//! line and bad value); `Codebook::compile` turns it into a [`crate::tag::Tagger`].
//!
//! A theme's rules are built from
//! - `terms`: words and phrases matched on stems as whole token sequences; a final `*` makes
//!   the last word a prefix wildcard (`exploit*`);
//! - `near`: groups of phrases that must all occur (`all`), with at least one of `any` when
//!   given, within `within` words of each other (or anywhere in the finding when omitted);
//! - `paragraph`: context rules for findings whose own words are generic: a finding matching
//!   one of the rule's `terms` gets the theme when its paragraph (the findings of one block of
//!   the report) matches one of the rule's `anchor` phrases, optionally only in this or an
//!   earlier finding (`anchor_before`) and no more than `within_findings` findings away;
//! - `exclude`: phrases that cancel any match of the theme they overlap ("not when ..."),
//!   paragraph terms and anchors included;
//! - `unless`: theme ids whose presence on the same finding cancels this theme (applied after
//!   the paragraph rules, so a theme a paragraph rule adds can cancel or be cancelled).

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::analyse::Analyzer;

/// A whole codebook file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodebookFile {
    /// A name for the codebook, shown in summaries.
    #[serde(default)]
    pub name: Option<String>,
    /// Findings that open with one of these phrases continue the previous finding and
    /// inherit its themes when they name none of their own.
    #[serde(default)]
    pub continuation_openers: Vec<Spanned<String>>,
    #[serde(rename = "theme", default)]
    pub themes: Vec<ThemeDef>,
}

/// One theme as written in the codebook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeDef {
    pub id: Spanned<String>,
    pub label: String,
    #[serde(default)]
    pub description: String,
    /// Optional group (nested categories are written `parent/child`).
    #[serde(default)]
    pub group: Option<String>,
    /// One of the themes every report summary leads with.
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub terms: Vec<Spanned<String>>,
    #[serde(default)]
    pub near: Vec<NearDef>,
    #[serde(default)]
    pub paragraph: Vec<ParagraphDef>,
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    #[serde(default)]
    pub unless: Vec<Spanned<String>>,
}

/// A paragraph-context rule: a finding matching one of `terms` gets the theme when its
/// paragraph matches one of `anchor`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParagraphDef {
    pub anchor: Spanned<Vec<Spanned<String>>>,
    pub terms: Spanned<Vec<Spanned<String>>>,
    /// The anchor must be in the same finding or an earlier finding of the paragraph.
    #[serde(default)]
    pub anchor_before: bool,
    /// Maximum number of findings between the finding and its anchor; omitted = anywhere in
    /// the paragraph.
    #[serde(default)]
    pub within_findings: Option<Spanned<usize>>,
    /// Theme ids: the rule does not fire on a finding that carries one of them.
    #[serde(default)]
    pub unless: Vec<Spanned<String>>,
}

/// A proximity rule: all of `all`, and one of `any` when given, within `within` words.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearDef {
    pub all: Vec<Spanned<String>>,
    #[serde(default)]
    pub any: Vec<Spanned<String>>,
    /// Maximum number of words between the matched phrases; omitted = anywhere in the finding.
    #[serde(default)]
    pub within: Option<usize>,
}

/// One codebook mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub theme: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.theme.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(
                f,
                "line {}: theme '{}': {}",
                self.line, self.theme, self.message
            )
        }
    }
}

/// Every mistake found in a codebook file.
#[derive(Debug, Clone)]
pub struct CodebookError {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for CodebookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "codebook {} has {} problem{}; fix them and run again:",
            self.file,
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {}: {p}", self.file)?;
        }
        Ok(())
    }
}

impl std::error::Error for CodebookError {}

/// A parsed pattern: its words' stems, and whether the last word is a prefix wildcard.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// Stems of the words, in order (for a wildcard, the last item is the lowercase prefix).
    pub stems: Vec<String>,
    pub prefix_last: bool,
    /// The pattern as written.
    pub source: String,
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stems.join(" "))?;
        if self.prefix_last {
            f.write_str("*")?;
        }
        Ok(())
    }
}

/// A validated proximity rule.
#[derive(Debug, Clone)]
pub struct Near {
    pub all: Vec<Pattern>,
    pub any: Vec<Pattern>,
    pub within: Option<usize>,
}

/// A validated paragraph-context rule.
#[derive(Debug, Clone)]
pub struct ParagraphRule {
    pub anchor: Vec<Pattern>,
    pub terms: Vec<Pattern>,
    /// Indices of themes whose presence on the finding (by its own rules or another
    /// paragraph rule) stops this rule.
    pub unless: Vec<usize>,
    pub anchor_before: bool,
    /// Maximum distance in findings between a finding and its anchor.
    pub within_findings: Option<usize>,
}

/// A validated theme.
#[derive(Debug, Clone)]
pub struct Theme {
    pub id: String,
    pub label: String,
    pub description: String,
    pub group: Option<String>,
    pub required: bool,
    pub terms: Vec<Pattern>,
    pub near: Vec<Near>,
    pub paragraph: Vec<ParagraphRule>,
    pub exclude: Vec<Pattern>,
    /// Indices (into the codebook's themes) of themes that cancel this one.
    pub unless: Vec<usize>,
}

/// A validated codebook.
#[derive(Debug, Clone)]
pub struct Codebook {
    pub name: String,
    pub themes: Vec<Theme>,
    pub continuation_openers: Vec<Pattern>,
}

/// A parser message on one line (TOML messages may span several).
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Word lists read from a lexicon file, made ready for matching: each entry trimmed and
/// lower-cased, empty entries dropped.
pub fn lower_entries<'a>(lists: impl IntoIterator<Item = &'a mut Vec<String>>) {
    for list in lists {
        for w in list.iter_mut() {
            *w = w.trim().to_lowercase();
        }
        list.retain(|w| !w.is_empty());
    }
}

/// Line number (1-based) of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

impl Codebook {
    /// Read and validate a codebook file.
    pub fn load(path: &Path) -> anyhow::Result<Codebook> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read codebook {}: {e}; check the path or pass --codebook FILE",
                path.display()
            )
        })?;
        Ok(Self::parse(&text, &path.display().to_string())?)
    }

    /// Parse and validate codebook text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Codebook, CodebookError> {
        let raw: CodebookFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            CodebookError {
                file: file.to_string(),
                problems: vec![Problem {
                    line,
                    theme: String::new(),
                    message: one_line(e.message()),
                }],
            }
        })?;
        let analyzer = Analyzer::english();
        let mut v = Validator {
            text,
            analyzer: &analyzer,
            problems: Vec::new(),
            theme: String::new(),
        };
        let book = v.validate(raw);
        if v.problems.is_empty() {
            Ok(book)
        } else {
            Err(CodebookError {
                file: file.to_string(),
                problems: v.problems,
            })
        }
    }

    /// Ids of the required themes, in codebook order.
    pub fn required_ids(&self) -> Vec<String> {
        self.themes
            .iter()
            .filter(|t| t.required)
            .map(|t| t.id.clone())
            .collect()
    }

    /// Ids of all themes, in codebook order.
    pub fn ids(&self) -> Vec<String> {
        self.themes.iter().map(|t| t.id.clone()).collect()
    }

    /// A readable listing of every theme and its rules as stems (`codebook show`).
    pub fn show(&self) -> String {
        let mut out = format!("codebook: {} ({} themes)\n", self.name, self.themes.len());
        let list = |ps: &[Pattern]| {
            ps.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let ids = |themes: &[usize]| {
            themes
                .iter()
                .map(|&i| self.themes[i].id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for t in &self.themes {
            out.push_str(&format!(
                "\n{}{} - {}{}\n",
                t.id,
                if t.required { " (required)" } else { "" },
                t.label,
                t.group
                    .as_deref()
                    .map(|g| format!(" [{g}]"))
                    .unwrap_or_default()
            ));
            if !t.terms.is_empty() {
                out.push_str(&format!("  terms:   {}\n", list(&t.terms)));
            }
            for n in &t.near {
                let within = n
                    .within
                    .map(|w| format!("within {w} words"))
                    .unwrap_or_else(|| "in the finding".into());
                out.push_str(&format!("  near:    all [{}]", list(&n.all)));
                if !n.any.is_empty() {
                    out.push_str(&format!(" + any [{}]", list(&n.any)));
                }
                out.push_str(&format!(" {within}\n"));
            }
            for r in &t.paragraph {
                out.push_str(&format!(
                    "  para:    [{}] when the paragraph has [{}]",
                    list(&r.terms),
                    list(&r.anchor)
                ));
                if r.anchor_before {
                    out.push_str(" in this or an earlier finding");
                }
                if let Some(w) = r.within_findings {
                    out.push_str(&format!(" within {w} findings"));
                }
                if !r.unless.is_empty() {
                    out.push_str(&format!(", unless {}", ids(&r.unless)));
                }
                out.push('\n');
            }
            if !t.exclude.is_empty() {
                out.push_str(&format!("  exclude: {}\n", list(&t.exclude)));
            }
            if !t.unless.is_empty() {
                out.push_str(&format!("  unless:  {}\n", ids(&t.unless)));
            }
        }
        out
    }
}

/// Parse one pattern as written: words stemmed in order, a final `*` making the last word a
/// lowercase prefix. `what` names the list it came from, for the error message.
pub fn parse_pattern(analyzer: &Analyzer, written: &str, what: &str) -> Result<Pattern, String> {
    let raw = written.trim();
    if raw.is_empty() {
        return Err(format!("empty {what} pattern"));
    }
    let prefix_last = raw.ends_with('*');
    let body = raw.trim_end_matches('*');
    if body.contains('*') {
        return Err(format!(
            "{what} pattern '{raw}': '*' is only allowed at the end of the last word"
        ));
    }
    let mut stems = analyzer.stems(body);
    if prefix_last {
        // The wildcard word is kept as a lowercase prefix, not stemmed.
        if let (Some((_, w)), Some(slot)) = (Analyzer::words(body).last(), stems.last_mut()) {
            *slot = w.to_lowercase();
        }
    }
    if stems.is_empty() || stems.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "{what} pattern '{raw}' stems to nothing; use words with letters or digits"
        ));
    }
    if prefix_last && stems.last().is_some_and(|p| p.chars().count() < 3) {
        return Err(format!(
            "{what} pattern '{raw}': a wildcard needs at least 3 letters before '*'"
        ));
    }
    Ok(Pattern {
        stems,
        prefix_last,
        source: raw.to_string(),
    })
}

struct Validator<'a> {
    text: &'a str,
    analyzer: &'a Analyzer,
    problems: Vec<Problem>,
    theme: String,
}

impl Validator<'_> {
    fn problem(&mut self, span: std::ops::Range<usize>, message: String) {
        self.problems.push(Problem {
            line: line_of(self.text, span.start),
            theme: self.theme.clone(),
            message,
        });
    }

    fn pattern(&mut self, s: &Spanned<String>, what: &str) -> Option<Pattern> {
        match parse_pattern(self.analyzer, s.get_ref(), what) {
            Ok(p) => Some(p),
            Err(message) => {
                self.problem(s.span(), message);
                None
            }
        }
    }

    fn patterns(&mut self, list: &[Spanned<String>], what: &str) -> Vec<Pattern> {
        list.iter().filter_map(|s| self.pattern(s, what)).collect()
    }

    /// Theme ids named in an `unless` list, as indices into the codebook's themes; unknown
    /// ids and the theme itself are problems.
    fn theme_refs(
        &mut self,
        list: &[Spanned<String>],
        id: &str,
        defs: &[ThemeDef],
        what: &str,
    ) -> Vec<usize> {
        let mut out = Vec::new();
        for u in list {
            match defs.iter().position(|d| d.id.get_ref() == u.get_ref()) {
                None => self.problem(
                    u.span(),
                    format!("unknown theme '{}' in {what}", u.get_ref()),
                ),
                Some(_) if u.get_ref() == id => {
                    self.problem(u.span(), "a theme cannot cancel itself".into())
                }
                Some(i) => out.push(i),
            }
        }
        out
    }

    fn validate(&mut self, raw: CodebookFile) -> Codebook {
        let mut seen: HashSet<String> = HashSet::new();
        let mut themes = Vec::new();
        for def in &raw.themes {
            let id = def.id.get_ref().trim().to_string();
            self.theme = id.clone();
            if id.is_empty() {
                self.problem(def.id.span(), "empty theme id".into());
            } else if !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                self.problem(
                    def.id.span(),
                    format!("theme id '{id}' must use only a-z, 0-9 and '_'"),
                );
            } else if !seen.insert(id.clone()) {
                self.problem(def.id.span(), format!("duplicate theme id '{id}'"));
            }
            if def.label.trim().is_empty() {
                self.problem(def.id.span(), "empty label".into());
            }
            let terms = self.patterns(&def.terms, "term");
            let mut near = Vec::new();
            for n in &def.near {
                let all = self.patterns(&n.all, "near.all");
                let any = self.patterns(&n.any, "near.any");
                if n.all.is_empty() {
                    self.problem(
                        def.id.span(),
                        "a near rule needs at least one 'all' phrase".into(),
                    );
                }
                if n.within == Some(0) {
                    self.problem(
                        def.id.span(),
                        "near 'within' must be at least 1 (omit it for the whole finding)".into(),
                    );
                }
                near.push(Near {
                    all,
                    any,
                    within: n.within,
                });
            }
            let mut paragraph = Vec::new();
            for r in &def.paragraph {
                let anchor = self.patterns(r.anchor.get_ref(), "paragraph.anchor");
                let terms = self.patterns(r.terms.get_ref(), "paragraph.terms");
                if r.anchor.get_ref().is_empty() {
                    self.problem(
                        r.anchor.span(),
                        "a paragraph rule needs at least one 'anchor' phrase".into(),
                    );
                }
                if r.terms.get_ref().is_empty() {
                    self.problem(
                        r.terms.span(),
                        "a paragraph rule needs at least one 'terms' phrase".into(),
                    );
                }
                if let Some(w) = &r.within_findings {
                    if *w.get_ref() == 0 {
                        self.problem(
                            w.span(),
                            "paragraph 'within_findings' must be at least 1 (omit it for the whole paragraph)"
                                .into(),
                        );
                    }
                }
                let unless = self.theme_refs(&r.unless, &id, &raw.themes, "paragraph.unless");
                paragraph.push(ParagraphRule {
                    anchor,
                    terms,
                    unless,
                    anchor_before: r.anchor_before,
                    within_findings: r.within_findings.as_ref().map(|w| *w.get_ref()),
                });
            }
            if def.terms.is_empty() && def.near.is_empty() && def.paragraph.is_empty() {
                self.problem(
                    def.id.span(),
                    "theme has no terms, near or paragraph rules".into(),
                );
            }
            let exclude = self.patterns(&def.exclude, "exclude");
            let unless = self.theme_refs(&def.unless, &id, &raw.themes, "unless");
            themes.push(Theme {
                id,
                label: def.label.trim().to_string(),
                description: def.description.trim().to_string(),
                group: def.group.clone().filter(|g| !g.trim().is_empty()),
                required: def.required,
                terms,
                near,
                paragraph,
                exclude,
                unless,
            });
        }
        self.theme.clear();
        if themes.is_empty() {
            self.problems.push(Problem {
                line: 1,
                theme: String::new(),
                message: "no [[theme]] tables; a codebook needs at least one theme".into(),
            });
        }
        let openers = self.patterns(&raw.continuation_openers, "continuation opener");
        Codebook {
            name: raw.name.unwrap_or_else(|| "codebook".into()),
            themes,
            continuation_openers: openers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_problem_with_lines() {
        let text = r#"
[[theme]]
id = "a"
label = "A"
terms = ["", "---"]

[[theme]]
id = "a"
label = "A again"
terms = ["x*y"]
unless = ["nope"]
"#;
        let err = Codebook::parse(text, "cb.toml").unwrap_err();
        let msgs: Vec<String> = err.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(msgs.len(), 5, "{msgs:#?}");
        assert!(msgs[0].starts_with("line 5: theme 'a': empty term pattern"));
        assert!(msgs[1].contains("'---' stems to nothing"));
        assert!(msgs[2].starts_with("line 8: theme 'a': duplicate theme id"));
        assert!(msgs[3].contains("'*' is only allowed at the end"));
        assert!(msgs[4].starts_with("line 11: theme 'a': unknown theme 'nope'"));
        assert!(err.to_string().contains("cb.toml"));
    }

    #[test]
    fn paragraph_rule_problems_name_their_lines() {
        let text = r#"
[[theme]]
id = "a"
label = "A"
terms = ["a"]
[[theme.paragraph]]
anchor = []
terms = ["x*y"]
within_findings = 0
unless = ["a", "nope"]

[[theme]]
id = "b"
label = "B"
[[theme.paragraph]]
anchor = ["front door"]
terms = []
"#;
        let err = Codebook::parse(text, "cb.toml").unwrap_err();
        let msgs: Vec<String> = err.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(msgs.len(), 6, "{msgs:#?}");
        assert!(msgs[0].starts_with("line 8: theme 'a': paragraph.terms pattern"));
        assert!(
            msgs[1].starts_with("line 7: theme 'a': a paragraph rule needs at least one 'anchor'")
        );
        assert!(msgs[2]
            .starts_with("line 9: theme 'a': paragraph 'within_findings' must be at least 1"));
        assert!(msgs[3].starts_with("line 10: theme 'a': a theme cannot cancel itself"));
        assert!(msgs[4].starts_with("line 10: theme 'a': unknown theme 'nope' in paragraph.unless"));
        assert!(
            msgs[5].starts_with("line 17: theme 'b': a paragraph rule needs at least one 'terms'")
        );
    }

    #[test]
    fn paragraph_rules_are_shown() {
        let text = "[[theme]]\nid = \"a\"\nlabel = \"A\"\n[[theme]]\nid = \"b\"\nlabel = \"B\"\nterms = [\"b\"]\n[[theme.paragraph]]\nanchor = [\"front door\"]\nterms = [\"decisions\"]\nanchor_before = true\nwithin_findings = 2\nunless = [\"a\"]\n";
        let err = Codebook::parse(text, "cb.toml").unwrap_err();
        assert!(err.problems[0]
            .message
            .contains("no terms, near or paragraph rules"));
        let book = Codebook::parse(
            &text.replacen("label = \"A\"\n", "label = \"A\"\nterms = [\"a\"]\n", 1),
            "cb.toml",
        )
        .unwrap();
        assert!(book.show().contains(
            "para:    [decis] when the paragraph has [front door] in this or an earlier finding within 2 findings, unless a"
        ));
    }

    #[test]
    fn unknown_key_names_its_line() {
        let text = "[[theme]]\nid = \"a\"\nlabel = \"A\"\nterm = [\"x\"]\n";
        let err = Codebook::parse(text, "cb.toml").unwrap_err();
        assert_eq!(err.problems[0].line, 4);
        assert!(err.problems[0].message.contains("unknown field `term`"));
    }

    #[test]
    fn phrases_are_stemmed_and_wildcards_kept_as_prefixes() {
        let text =
            "[[theme]]\nid = \"a\"\nlabel = \"A\"\nterms = [\"strategy meetings\", \"exploit*\"]\n";
        let book = Codebook::parse(text, "cb.toml").unwrap();
        let t = &book.themes[0];
        assert_eq!(t.terms[0].stems, ["strategi", "meet"]);
        assert_eq!(t.terms[1].stems, ["exploit"]);
        assert!(t.terms[1].prefix_last);
        assert!(book.show().contains("strategi meet | exploit*"));
    }
}
