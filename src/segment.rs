//! Segmentation: turns clean blocks into findings.
//!
//! A finding is one sentence of report prose or one sentence of a bullet item.
//! Headings are not findings; they set the section of the findings that follow.
//! Salutations, sign-offs, names, job titles, addresses and other unpunctuated
//! title-case lines are dropped.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::model::{BlockKind, CleanText, Finding, Section};

/// Words that end with a full stop without ending a sentence (compared lower case).
/// The bundled segmentation rules.
pub const DEFAULT_RULES: &str = include_str!("../data/lexicon/sections.toml");

/// Section headings and abbreviations, from `data/lexicon/sections.toml` or a user's copy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentRules {
    improve: Vec<String>,
    overview: Vec<String>,
    context: Vec<String>,
    findings: Vec<String>,
    abbreviations: Vec<String>,
}

impl SegmentRules {
    /// Parse rules; `file` names them in errors.
    pub fn parse(text: &str, file: &str) -> anyhow::Result<SegmentRules> {
        let mut r: SegmentRules = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| crate::codebook::line_of(text, s.start))
                .unwrap_or(0);
            anyhow::anyhow!(
                "section rules {file} line {line}: {}",
                crate::codebook::one_line(e.message())
            )
        })?;
        crate::codebook::lower_entries([
            &mut r.improve,
            &mut r.overview,
            &mut r.context,
            &mut r.findings,
            &mut r.abbreviations,
        ]);
        Ok(r)
    }

    /// The bundled rules (parsed once).
    pub fn bundled() -> &'static SegmentRules {
        static RULES: LazyLock<SegmentRules> = LazyLock::new(|| {
            SegmentRules::parse(DEFAULT_RULES, "data/lexicon/sections.toml")
                .expect("bundled section rules are valid")
        });
        &RULES
    }

    /// The section a heading opens, if it names one.
    pub fn section_of_heading(&self, heading: &str) -> Option<Section> {
        let t: String = heading
            .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let t = t.trim();
        let starts = |ps: &[String]| ps.iter().any(|p| t.starts_with(p.as_str()));
        [
            (&self.improve, Section::Improve),
            (&self.overview, Section::Overview),
            (&self.context, Section::Context),
            (&self.findings, Section::Findings),
        ]
        .into_iter()
        .find(|(list, _)| starts(list))
        .map(|(_, s)| s)
    }

    fn is_abbreviation(&self, lower: &str) -> bool {
        self.abbreviations.iter().any(|a| a == lower)
    }
}

/// Split the blocks of one report into findings, by the bundled rules.
pub fn segment(clean: &CleanText) -> Vec<Finding> {
    segment_with(clean, SegmentRules::bundled())
}

/// Split the blocks of one report into findings.
pub fn segment_with(clean: &CleanText, rules: &SegmentRules) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut section = Section::Other;
    let mut signed_off = false;
    for block in &clean.blocks {
        if block.kind == BlockKind::Heading {
            if let Some(s) = rules.section_of_heading(&block.text) {
                section = s;
                signed_off = false;
            }
            if is_sign_off(&block.text) {
                signed_off = true;
            }
            continue;
        }
        let text = block.text.trim();
        if block.kind == BlockKind::Paragraph && is_not_prose(text, signed_off) {
            if is_sign_off(text) {
                signed_off = true;
            }
            continue;
        }
        for sentence in split_sentences_with(text, rules) {
            if !is_finding_text(sentence) {
                continue;
            }
            out.push(Finding {
                id: out.len() as u32 + 1,
                section,
                bullet: block.kind == BlockKind::Bullet,
                text: sentence.to_string(),
                source_start: block.source_start,
            });
        }
    }
    out
}

/// The section a heading opens, if it names one, by the bundled rules.
pub fn section_of_heading(heading: &str) -> Option<Section> {
    SegmentRules::bundled().section_of_heading(heading)
}

fn is_sign_off(text: &str) -> bool {
    ["yours sincerely", "yours faithfully", "kind regards"]
        .iter()
        .any(|p| starts_with_lower(text, p))
}

/// True when `text`, lower-cased, starts with `prefix` (lower case); reads only as far as
/// the prefix.
fn starts_with_lower(text: &str, prefix: &str) -> bool {
    let mut lower = text.chars().flat_map(char::to_lowercase);
    prefix.chars().all(|p| lower.next() == Some(p))
}

/// Paragraph blocks that are not report prose: salutations, sign-offs, names, titles,
/// dates and addresses (short, unpunctuated, mostly capitalised words).
fn is_not_prose(text: &str, signed_off: bool) -> bool {
    if is_sign_off(text) {
        return true;
    }
    if text.starts_with("Dear ") && crate::model::count_words(text) <= 8 {
        return true;
    }
    if crate::normalise::ends_sentence(text) {
        return false;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if signed_off && words.len() <= 20 {
        return true;
    }
    if words.len() > 16 {
        return false;
    }
    let capitalised = words
        .iter()
        .filter(|w| {
            w.chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        })
        .count();
    capitalised * 5 >= words.len() * 3
}

/// A sentence worth keeping: has words, and is not only a bracketed note or a label.
fn is_finding_text(s: &str) -> bool {
    if s.chars().filter(|c| c.is_alphabetic()).take(2).count() < 2 {
        return false;
    }
    let t = s.trim_end_matches(['.', ' ']);
    if t.starts_with('(') && t.ends_with(')') && !t[1..].contains('(') {
        return false;
    }
    true
}

/// Split a block's text into sentences (borrowed slices, trimmed), by the bundled rules.
pub fn split_sentences(text: &str) -> Vec<&str> {
    split_sentences_with(text, SegmentRules::bundled())
}

/// Split a block's text into sentences (borrowed slices, trimmed).
pub fn split_sentences_with<'t>(text: &'t str, rules: &SegmentRules) -> Vec<&'t str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    // Jump from one sentence mark to the next.
    while let Some(at) = memchr::memchr3(b'.', b'!', b'?', &bytes[i..]) {
        i += at;
        // Extend over repeated marks and closing quotes/brackets.
        let mut j = i + 1;
        while j < bytes.len() && matches!(bytes[j], b'.' | b'!' | b'?' | b'"' | b'\'' | b')' | b']')
        {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b' ' {
            let mut k = j;
            while k < bytes.len() && bytes[k] == b' ' {
                k += 1;
            }
            if k < bytes.len()
                && starts_sentence(&text[k..])
                && !is_abbreviation(text, start, i, &text[k..], rules)
            {
                let s = text[start..j].trim();
                if !s.is_empty() {
                    out.push(s);
                }
                start = k;
                i = k;
                continue;
            }
        }
        i = j;
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

fn starts_sentence(rest: &str) -> bool {
    let mut chars = rest.chars();
    match chars.next() {
        Some(c) if c.is_uppercase() || c.is_ascii_digit() => true,
        Some('(') => true,
        Some('"' | '\'' | '[') => chars
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit()),
        _ => false,
    }
}

/// True when the full stop at `dot` closes an abbreviation or an initial.
fn is_abbreviation(text: &str, start: usize, dot: usize, next: &str, rules: &SegmentRules) -> bool {
    if text.as_bytes()[dot] != b'.' {
        return false;
    }
    let before = &text[start..dot];
    let word = before
        .rsplit(' ')
        .next()
        .unwrap_or("")
        .trim_start_matches(['(', '"', '\'', '[']);
    if word.is_empty() {
        return false;
    }
    let lower = word.to_lowercase();
    if rules.is_abbreviation(&lower) {
        return true;
    }
    if lower == "no" || lower == "nos" {
        return next.starts_with(|c: char| c.is_ascii_digit());
    }
    // Initials: "J." and dotted abbreviations such as "U.K".
    let mut cs = word.chars();
    let single_capital = matches!((cs.next(), cs.next()), (Some(c), None) if c.is_uppercase());
    single_capital
        || (word.contains('.')
            && word.len() <= 6
            && word.chars().all(|c| c.is_alphabetic() || c == '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Block, CleanText};

    fn para(text: &str) -> Block {
        Block {
            kind: BlockKind::Paragraph,
            text: text.to_string(),
            source_start: 0,
            source_end: text.len(),
        }
    }

    #[test]
    fn splits_sentences() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Threshold guidance was successfully relaunched in 2017. A survey confirmed an increase.",
                &["Threshold guidance was successfully relaunched in 2017.", "A survey confirmed an increase."],
            ),
            (
                "The inspectors were Sheena Doyle, HMI, Paula Thomson-Jones, HMI, and Melanie Davies, Ofsted Inspector. The visit ended.",
                &[
                    "The inspectors were Sheena Doyle, HMI, Paula Thomson-Jones, HMI, and Melanie Davies, Ofsted Inspector.",
                    "The visit ended.",
                ],
            ),
            (
                "Partners (e.g. Health and schools) attend. The rate rose to 2.5 per cent. Mr. Smith and Dr. Jones agreed.",
                &["Partners (e.g. Health and schools) attend.", "The rate rose to 2.5 per cent.", "Mr. Smith and Dr. Jones agreed."],
            ),
            (
                "Workers described it as being 'like a family'. They were positive.",
                &["Workers described it as being 'like a family'.", "They were positive."],
            ),
            ("Report by J. Smith on page No. 4 was read.", &["Report by J. Smith on page No. 4 was read."]),
            ("Is this good? Yes it is.", &["Is this good?", "Yes it is."]),
        ];
        for (text, want) in cases {
            assert_eq!(split_sentences(text), *want, "{text}");
        }
    }

    #[test]
    fn sections_from_headings() {
        let cases = [
            ("Overview", Some(Section::Overview)),
            ("Headline findings", Some(Section::Overview)),
            (
                "What needs to improve in this area of social work practice?",
                Some(Section::Improve),
            ),
            ("Areas for improvement", Some(Section::Improve)),
            (
                "Findings and evaluation of progress",
                Some(Section::Findings),
            ),
            (
                "The experiences and progress of children who need help and protection: good",
                Some(Section::Findings),
            ),
            ("Information about this inspection", Some(Section::Context)),
            ("Areas covered by the visit", Some(Section::Context)),
            ("Dear Mr Boyce", None),
        ];
        for (h, want) in cases {
            assert_eq!(section_of_heading(h), want, "{h}");
        }
    }

    #[test]
    fn drops_letter_parts_and_tracks_sections() {
        let clean = CleanText {
            blocks: vec![
                para("10 April 2018"),
                para("Dear Mr Boyce"),
                para("This letter summarises the findings. The visit was the fifth."),
                Block { kind: BlockKind::Heading, ..para("Overview") },
                Block { kind: BlockKind::Bullet, ..para("Frontline workforce sufficiency") },
                para("The quality of the support for children in need. (outcome 1, national framework)"),
                para("Yours sincerely"),
                para("Sheena Doyle Her Majesty's Inspector"),
            ],
        };
        let f = segment(&clean);
        let got: Vec<(&str, Section, bool, u32)> = f
            .iter()
            .map(|x| (x.text.as_str(), x.section, x.bullet, x.id))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "This letter summarises the findings.",
                    Section::Other,
                    false,
                    1
                ),
                ("The visit was the fifth.", Section::Other, false, 2),
                (
                    "Frontline workforce sufficiency",
                    Section::Overview,
                    true,
                    3
                ),
                (
                    "The quality of the support for children in need.",
                    Section::Overview,
                    false,
                    4
                ),
            ]
        );
    }

    #[test]
    fn never_panics_on_odd_text() {
        let inputs = ["", ".", "é. É", "a.\u{2019} B", "?!. ", "(x)", "x. "];
        for i in inputs {
            let _ = split_sentences(i);
            let _ = segment(&CleanText {
                blocks: vec![para(i)],
            });
        }
    }
}
