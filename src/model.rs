//! Core data types that flow between the pipeline stages.
//!
//! Each stage takes one of these types and returns the next:
//! `SourceFile` (ingest) -> `CleanText` (normalise) -> `Metadata` (metadata) ->
//! `Finding` (segment) -> `TaggedFinding` (tag + stance) -> tables (aggregate) -> files (write).

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use crate::bytes::{white_space, words, TOP};

/// What happened to one input file. Every file found gets exactly one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Read and processed.
    Ok,
    /// Same normalised text as an earlier file; not counted again.
    Duplicate,
    /// Not a report (empty, binary, unsupported type, no report text).
    Skipped,
    /// Could not be read.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Duplicate => "duplicate",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of a block of normalised text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// A short line that names a section or a sub-heading.
    Heading,
    /// A paragraph of running prose (may hold several sentences).
    Paragraph,
    /// One bullet or list item.
    Bullet,
}

/// One block of normalised text: a heading, a paragraph or a bullet item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    /// The block's text, cleaned: one line, single spaces, unified quotes and dashes,
    /// no Markdown marks, no bullet glyph, no paragraph number.
    pub text: String,
    /// Byte offset in the original (decoded) text where the block starts: the map back to the source.
    pub source_start: usize,
    /// Byte offset in the original (decoded) text where the block ends (exclusive).
    pub source_end: usize,
}

/// A report's text after normalisation: the sequence of blocks, in reading order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanText {
    pub blocks: Vec<Block>,
}

/// Number of whitespace-separated words in `s`: the same count as
/// `s.split_whitespace().count()`.
pub fn count_words(s: &str) -> usize {
    // ASCII text, eight bytes at a time: a word starts at a byte that is not white space
    // after one that is (or at the start); the end is padded with spaces. Non-ASCII white
    // space starts with one of the bytes 0xC2, 0xE1, 0xE2 or 0xE3: a text with such a byte is
    // counted by the standard library.
    let mut n = 0;
    let mut prev_space: u64 = 0x80;
    for x in words(s.as_bytes(), b' ') {
        if x & TOP != 0
            && x.to_le_bytes()
                .iter()
                .any(|&b| matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3))
        {
            return s.split_whitespace().count();
        }
        let space = white_space(x);
        let before = space << 8 | prev_space;
        n += (!space & before & TOP).count_ones() as usize;
        prev_space = space >> 56;
    }
    n
}

impl CleanText {
    /// All block texts joined by newlines: the canonical text used for hashing and duplicate detection.
    pub fn joined(&self) -> String {
        self.joined_parts().collect()
    }

    /// The pieces of [`CleanText::joined`] in order (each block's text, then a newline), for
    /// hashing it without building it.
    pub fn joined_parts(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().flat_map(|b| [b.text.as_str(), "\n"])
    }

    /// Number of words (whitespace-separated) in the cleaned text.
    pub fn word_count(&self) -> usize {
        self.blocks.iter().map(|b| count_words(&b.text)).sum()
    }
}

/// The type of visit or inspection, as in the theme guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitType {
    MonitoringVisit,
    FocusedVisit,
    IlacsInspection,
    SifInspection,
    SafeguardingLacInspection,
    Jtai,
    Other,
}

impl VisitType {
    pub const ALL: [VisitType; 7] = [
        VisitType::MonitoringVisit,
        VisitType::FocusedVisit,
        VisitType::IlacsInspection,
        VisitType::SifInspection,
        VisitType::SafeguardingLacInspection,
        VisitType::Jtai,
        VisitType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitType::MonitoringVisit => "monitoring_visit",
            VisitType::FocusedVisit => "focused_visit",
            VisitType::IlacsInspection => "ilacs_inspection",
            VisitType::SifInspection => "sif_inspection",
            VisitType::SafeguardingLacInspection => "safeguarding_lac_inspection",
            VisitType::Jtai => "jtai",
            VisitType::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<VisitType> {
        VisitType::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A date as ISO text (`2018-03-14`), "" when absent.
pub fn iso_date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A judgement grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    Outstanding,
    Good,
    RequiresImprovement,
    Adequate,
    Inadequate,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Outstanding => "outstanding",
            Grade::Good => "good",
            Grade::RequiresImprovement => "requires_improvement",
            Grade::Adequate => "adequate",
            Grade::Inadequate => "inadequate",
        }
    }
}

/// A local authority as resolved against the reference table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authority {
    /// Short official name, e.g. "Wirral".
    pub name: String,
    /// GSS code, e.g. "E08000015".
    pub la_code: String,
    /// Region name, e.g. "North West".
    pub region: String,
}

/// Report metadata read from the text (never from the file name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pub authority: Option<Authority>,
    pub visit_type: Option<VisitType>,
    pub visit_start: Option<NaiveDate>,
    pub visit_end: Option<NaiveDate>,
    pub published: Option<NaiveDate>,
    /// Judgements in the order the report gives them: (`name`, grade).
    pub judgements: Vec<(String, Grade)>,
    /// Fields that could not be found, e.g. "authority", "visit dates".
    pub missing: Vec<String>,
}

impl Metadata {
    /// Year of `visit_start`, falling back to the year published.
    pub fn year(&self) -> Option<i32> {
        use chrono::Datelike;
        self.visit_start.or(self.published).map(|d| d.year())
    }

    /// The authority's short name, "" when not found.
    pub fn authority_name(&self) -> &str {
        self.authority.as_ref().map_or("", |a| a.name.as_str())
    }

    /// The authority's GSS code, "" when not found.
    pub fn la_code(&self) -> &str {
        self.authority.as_ref().map_or("", |a| a.la_code.as_str())
    }

    /// The authority's region, "" when not found.
    pub fn region(&self) -> &str {
        self.authority.as_ref().map_or("", |a| a.region.as_str())
    }

    /// The visit type's id, "" when not found.
    pub fn visit_type_str(&self) -> &str {
        self.visit_type.map_or("", VisitType::as_str)
    }

    /// The year as text, "" when unknown.
    pub fn year_text(&self) -> String {
        self.year().map(|y| y.to_string()).unwrap_or_default()
    }

    /// Judgements as `name=grade` joined by `;`.
    pub fn judgements_string(&self) -> String {
        self.judgements
            .iter()
            .map(|(n, g)| format!("{n}={}", g.as_str()))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// The section a finding came from, mapped to a small vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Overview,
    Improve,
    Findings,
    Context,
    Other,
}

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Overview => "overview",
            Section::Improve => "improve",
            Section::Findings => "findings",
            Section::Context => "context",
            Section::Other => "other",
        }
    }
}

/// One finding: a sentence of report prose or one bullet item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based position of the finding in its document.
    pub id: u32,
    pub section: Section,
    /// True when the finding is a bullet item (not a sentence of a paragraph).
    pub bullet: bool,
    /// The finding's text, one line.
    pub text: String,
    /// Byte offset in the original (decoded) text where the finding's block starts.
    pub source_start: usize,
}

/// The stance a finding takes on one theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    Strength,
    Concern,
    Mixed,
    Neutral,
}

impl Stance {
    pub const ALL: [Stance; 4] = [
        Stance::Strength,
        Stance::Concern,
        Stance::Mixed,
        Stance::Neutral,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Strength => "strength",
            Stance::Concern => "concern",
            Stance::Mixed => "mixed",
            Stance::Neutral => "neutral",
        }
    }

    pub fn parse(s: &str) -> Option<Stance> {
        Stance::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One theme on one finding, with the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeTag {
    /// Theme id from the codebook.
    pub theme: String,
    pub stance: Stance,
    /// The words that triggered the theme, as written in the finding.
    pub matched: Vec<String>,
    /// The words that decided the stance, as written in the finding.
    pub cues: Vec<String>,
}

/// A finding with its themes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedFinding {
    pub finding: Finding,
    pub tags: Vec<ThemeTag>,
}

impl TaggedFinding {
    /// `theme=stance` pairs joined by `;`, in codebook order (the gold file's form), written
    /// into `out` (cleared first) so a caller can reuse its space.
    pub fn write_themes(&self, out: &mut String) {
        out.clear();
        for (i, t) in self.tags.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(&t.theme);
            out.push('=');
            out.push_str(t.stance.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1024, ..Default::default() })]

        /// Long texts of ASCII and other characters, so that the eight-byte steps, their
        /// joins and the bytes left over are all exercised.
        #[test]
        fn count_words_counts_as_split_whitespace(
            text in "([ \t\n\x0b\x0c\r\x1f!~\x7f]|[a-z]{1,9}|\u{E9}|\u{20AC}|\u{A0}|\u{2003}){0,80}"
        ) {
            proptest::prop_assert_eq!(count_words(&text), text.split_whitespace().count());
        }
    }
}
