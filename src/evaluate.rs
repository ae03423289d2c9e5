//! Agreement between the pipeline's output and hand coding (the gold files).
//!
//! `evaluate` is pure: it takes the gold set, what the pipeline produced for each
//! document and the codebook, and returns an [`Evaluation`]. Printing and writing files
//! are the caller's business ([`Evaluation::to_table`], [`Evaluation::write_csvs`]).
//!
//! # Alignment
//!
//! Gold findings and pipeline findings are matched by where they sit in the document,
//! not by exact text. Each document's decoded text is reduced to a *key stream*: its
//! letters and digits, lowercased (ligatures expanded, common Latin accents folded to
//! ASCII); white space, punctuation and Markdown marks are dropped. Each finding's text
//! is reduced the same way and located in the stream:
//!
//! 1. exact search forward from the end of the previous finding of the same side, then
//!    anywhere in the document;
//! 2. failing that, the key is cut into chunks of [`CHUNK`] characters, each chunk is
//!    looked up in an index of the stream, and the longest chain of chunks found in order
//!    (consecutive chunks at most [`MAX_GAP`] extra characters apart, or [`MAX_DROP`]
//!    characters short) gives the span. At least half the chunks must be found. This
//!    tolerates running headers, page numbers and footnotes inside a finding and small
//!    differences between text extractions.
//!
//! A gold finding and a pipeline finding *overlap enough* when their spans share at
//! least half the length of the shorter span. A gold finding is paired with the
//! pipeline finding it overlaps most, plus every pipeline finding whose own best match
//! it is (a sentence the pipeline split in two is paired with both halves; a pipeline
//! finding that merges two gold sentences is paired with both).
//!
//! # Scoring decisions
//!
//! * Theme scoring is per (gold finding, theme). With several pipeline findings paired to
//!   one gold finding their labels are united; a theme given different stances takes the
//!   stance [`merge_stances`] gives (neutral yields to a judgement; strength with concern,
//!   or anything with mixed, is mixed).
//! * A gold finding that cannot be located, or that no pipeline finding overlaps enough,
//!   or whose document the pipeline did not produce, is *unplaced*: it is listed, and its
//!   labels count as false negatives.
//! * Gold lists every finding of a coded document, so a pipeline finding in a coded
//!   document that is paired with no gold finding counts its labels as false positives.
//!   Pipeline documents absent from the gold set are not scored.
//! * Precision, recall and F1 with a zero denominator are 0.
//! * Macro F1 is the mean of per-theme F1 over the themes with gold support or
//!   predictions (themes with neither are left out, not counted as 0 or 1); the required
//!   macro F1 does the same over the required themes. With no theme to average the
//!   macro F1 is 0.
//! * Stance agreement (accuracy, Cohen's kappa, confusion matrix) is over the
//!   (finding, theme) pairs both sides tagged, i.e. the true positives. Kappa is
//!   `(po - pe) / (1 - pe)` with `pe` from the marginals; when `pe` is 1 it is 1 if
//!   `po` is 1 and 0 otherwise; with no pairs accuracy and kappa are 0.
//! * Metadata fields are compared after trimming and collapsing white space; `authority`
//!   ignores case and `judgements` ignores order. A gold document the pipeline did not
//!   produce is compared against empty values.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::model::Stance;

/// Length of the chunks used to locate a finding that does not match exactly.
pub const CHUNK: usize = 12;
/// Largest number of extra key characters (a running header, page number, footnote)
/// allowed between two consecutive chunks of one finding.
pub const MAX_GAP: usize = 600;
/// Largest number of key characters the document may lack between two consecutive
/// chunks of one finding.
pub const MAX_DROP: usize = 40;
/// Occurrences of one chunk considered (those nearest the search cursor).
const MAX_OCCURRENCES: usize = 64;

/// Metadata fields in display order; other gold fields follow alphabetically.
const METADATA_FIELDS: [&str; 8] = [
    "authority",
    "la_code",
    "visit_type",
    "visit_start",
    "visit_end",
    "published",
    "year",
    "judgements",
];

// ---------------------------------------------------------------------------
// Gold set
// ---------------------------------------------------------------------------

/// One hand-coded finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldFinding {
    pub document: String,
    pub text: String,
    /// `(theme, stance)` pairs, in the order the gold file gives them.
    pub labels: Vec<(String, Stance)>,
}

/// Hand-coded metadata of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldMetadata {
    pub document: String,
    /// Field name to value as written (`authority`, `la_code`, `visit_type`,
    /// `visit_start`, `visit_end`, `published`, `year`, `judgements`); "" when the
    /// report does not say.
    pub fields: BTreeMap<String, String>,
}

/// The gold files of one folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoldSet {
    pub findings: Vec<GoldFinding>,
    pub metadata: Vec<GoldMetadata>,
}

impl GoldSet {
    /// Reads `dir/findings.csv` (`document,text,labels`) and `dir/metadata.csv`
    /// (`document` and one column per field).
    pub fn load(dir: &Path) -> Result<GoldSet> {
        let findings = load_findings(&dir.join("findings.csv"))?;
        let metadata = load_metadata(&dir.join("metadata.csv"))?;
        Ok(GoldSet { findings, metadata })
    }

    /// Adds another gold set's documents to this one, to be scored together. A document
    /// already coded here is an error: pooled scores must count each report once.
    pub fn append(&mut self, other: GoldSet) -> Result<()> {
        let known: std::collections::BTreeSet<&str> = self.documents().collect();
        if let Some(d) = other.documents().find(|d| known.contains(d)) {
            bail!("document {d} is already in an earlier gold folder");
        }
        self.findings.extend(other.findings);
        self.metadata.extend(other.metadata);
        Ok(())
    }

    /// The documents named in the findings and the metadata (with repeats).
    fn documents(&self) -> impl Iterator<Item = &str> {
        self.findings
            .iter()
            .map(|f| f.document.as_str())
            .chain(self.metadata.iter().map(|m| m.document.as_str()))
    }
}

/// A CSV file's header and its records with their line numbers.
type CsvRows = (Vec<String>, Vec<(u64, csv::StringRecord)>);

fn read_csv(path: &Path) -> Result<CsvRows> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: line 1: cannot read header", path.display()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            anyhow::anyhow!("{}: line {line}: {e}", path.display())
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        rows.push((line, record));
    }
    Ok((headers, rows))
}

fn column(headers: &[String], name: &str, path: &Path) -> Result<usize> {
    headers
        .iter()
        .position(|h| h == name)
        .with_context(|| format!("{}: line 1: missing column \"{name}\"", path.display()))
}

fn load_findings(path: &Path) -> Result<Vec<GoldFinding>> {
    let (headers, rows) = read_csv(path)?;
    let doc_col = column(&headers, "document", path)?;
    let text_col = column(&headers, "text", path)?;
    let labels_col = column(&headers, "labels", path)?;
    let mut out = Vec::with_capacity(rows.len());
    for (line, record) in rows {
        let document = record.get(doc_col).unwrap_or("").trim().to_string();
        if document.is_empty() {
            bail!("{}: line {line}: empty document", path.display());
        }
        let text = record.get(text_col).unwrap_or("").trim().to_string();
        if text.is_empty() {
            bail!("{}: line {line}: empty text", path.display());
        }
        let raw = record.get(labels_col).unwrap_or("");
        let labels = parse_labels(raw)
            .map_err(|e| anyhow::anyhow!("{}: line {line}: {e}", path.display()))?;
        out.push(GoldFinding {
            document,
            text,
            labels,
        });
    }
    Ok(out)
}

/// Parses `theme=stance` pairs joined by `;` (empty pieces are ignored).
pub fn parse_labels(raw: &str) -> Result<Vec<(String, Stance)>> {
    let mut labels: Vec<(String, Stance)> = Vec::new();
    for piece in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((theme, stance)) = piece.split_once('=') else {
            bail!("label \"{piece}\" is not theme=stance");
        };
        let theme = theme.trim();
        let stance_text = stance.trim();
        if theme.is_empty() {
            bail!("label \"{piece}\" has no theme");
        }
        let Some(stance) = Stance::parse(stance_text) else {
            bail!("unknown stance \"{stance_text}\" in label \"{piece}\"");
        };
        if labels.iter().any(|(t, _)| t == theme) {
            bail!("theme \"{theme}\" given twice in \"{raw}\"");
        }
        labels.push((theme.to_string(), stance));
    }
    Ok(labels)
}

fn load_metadata(path: &Path) -> Result<Vec<GoldMetadata>> {
    let (headers, rows) = read_csv(path)?;
    let doc_col = column(&headers, "document", path)?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(rows.len());
    for (line, record) in rows {
        let document = record.get(doc_col).unwrap_or("").trim().to_string();
        if document.is_empty() {
            bail!("{}: line {line}: empty document", path.display());
        }
        if !seen.insert(document.clone()) {
            bail!(
                "{}: line {line}: document \"{document}\" listed twice",
                path.display()
            );
        }
        let fields = headers
            .iter()
            .enumerate()
            .filter(|(i, h)| *i != doc_col && !h.is_empty())
            .map(|(i, h)| (h.clone(), record.get(i).unwrap_or("").trim().to_string()))
            .collect();
        out.push(GoldMetadata { document, fields });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Pipeline output
// ---------------------------------------------------------------------------

/// What the pipeline produced for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictedDoc {
    /// File name relative to the input folder.
    pub document: String,
    /// The full decoded text of the file.
    pub source: String,
    /// Same field names as the gold metadata; "" when missing.
    pub metadata: BTreeMap<String, String>,
    pub findings: Vec<PredictedFinding>,
}

/// One pipeline finding with its themes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictedFinding {
    pub finding_id: u32,
    pub text: String,
    pub labels: Vec<(String, Stance)>,
}

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

/// Precision, recall and F1 of one theme (or of all themes pooled).
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeScore {
    pub theme: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold count: `tp + fn_`.
    pub support: usize,
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl ThemeScore {
    fn new(theme: &str, tp: usize, fp: usize, fn_: usize) -> ThemeScore {
        let (precision, recall, f1) = prf(tp, fp, fn_);
        ThemeScore {
            theme: theme.to_string(),
            precision,
            recall,
            f1,
            support: tp + fn_,
            tp,
            fp,
            fn_,
        }
    }

    /// True when the theme has gold support or predictions.
    pub fn counted_in_macro(&self) -> bool {
        self.tp + self.fp + self.fn_ > 0
    }
}

/// Stance agreement on the (finding, theme) pairs both sides tagged.
#[derive(Debug, Clone, PartialEq)]
pub struct StanceAgreement {
    /// Gold stance rows by predicted stance columns, in [`Stance::ALL`] order.
    pub confusion: [[usize; 4]; 4],
    pub pairs: usize,
    pub accuracy: f64,
    pub kappa: f64,
}

/// A theme both sides tagged with different stances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanceError {
    pub document: String,
    /// 1-based position of the gold finding among its document's gold findings.
    pub gold_index: usize,
    pub predicted_ids: Vec<u32>,
    pub theme: String,
    pub gold: Stance,
    pub predicted: Stance,
    pub text: String,
}

/// Accuracy of one metadata field over the gold documents.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldAccuracy {
    pub field: String,
    pub correct: usize,
    pub total: usize,
    pub accuracy: f64,
}

/// One metadata value that differs from gold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataMismatch {
    pub document: String,
    pub field: String,
    pub gold: String,
    pub predicted: String,
}

/// Why a gold finding has no pipeline finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnplacedReason {
    /// The pipeline produced no document of that name.
    DocumentMissing,
    /// The finding's text could not be found in the document.
    NotLocated,
    /// Located, but no pipeline finding overlaps it enough.
    NoOverlap,
}

impl UnplacedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            UnplacedReason::DocumentMissing => "document_missing",
            UnplacedReason::NotLocated => "not_located",
            UnplacedReason::NoOverlap => "no_overlap",
        }
    }
}

/// A gold finding with no pipeline finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplaced {
    pub document: String,
    /// 1-based position among the document's gold findings.
    pub gold_index: usize,
    pub reason: UnplacedReason,
    pub labels: String,
    pub text: String,
}

/// How gold and pipeline findings were matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alignment {
    /// Documents with gold findings or gold metadata.
    pub gold_documents: usize,
    /// Gold documents the pipeline did not produce.
    pub documents_missing: Vec<String>,
    pub gold_findings: usize,
    pub placed: usize,
    pub unplaced: Vec<Unplaced>,
    /// Pipeline findings in documents that have gold findings.
    pub predicted_findings: usize,
    /// Of those, paired with at least one gold finding.
    pub predicted_paired: usize,
    /// Of those, whose text could not be found in the source.
    pub predicted_not_located: usize,
}

/// False positive or false negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    FalsePositive,
    FalseNegative,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::FalsePositive => "fp",
            ErrorKind::FalseNegative => "fn",
        }
    }
}

/// One theme missed or added on one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeError {
    pub kind: ErrorKind,
    pub document: String,
    /// 1-based position of the gold finding; `None` for an unpaired pipeline finding.
    pub gold_index: Option<usize>,
    /// Pipeline findings paired with it (or the unpaired one itself).
    pub predicted_ids: Vec<u32>,
    pub theme: String,
    pub gold_labels: String,
    pub predicted_labels: String,
    /// Gold text, or the pipeline text for an unpaired pipeline finding.
    pub text: String,
    /// The paired pipeline findings' text joined by " | " (empty when none).
    pub predicted_text: String,
}

/// Everything `evaluate` measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Codebook themes in order, then any other theme seen, alphabetically.
    pub themes: Vec<ThemeScore>,
    /// All themes pooled (`theme` is "micro").
    pub micro: ThemeScore,
    pub macro_f1: f64,
    /// Themes averaged in `macro_f1`.
    pub macro_themes: usize,
    pub required: Vec<String>,
    pub required_macro_f1: f64,
    /// Required themes averaged in `required_macro_f1`.
    pub required_themes_counted: usize,
    pub stance: StanceAgreement,
    pub stance_errors: Vec<StanceError>,
    pub metadata_fields: Vec<FieldAccuracy>,
    pub metadata_mismatches: Vec<MetadataMismatch>,
    pub alignment: Alignment,
    pub errors: Vec<ThemeError>,
}

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Precision, recall and F1; each is 0 when its denominator is 0.
pub fn prf(tp: usize, fp: usize, fn_: usize) -> (f64, f64, f64) {
    let p = ratio(tp, tp + fp);
    let r = ratio(tp, tp + fn_);
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

/// Cohen's kappa of a square confusion matrix (rows: one coder, columns: the other).
/// `(po - pe) / (1 - pe)`; when `pe` is 1 it is 1 if `po` is 1, else 0; 0 when empty.
pub fn cohen_kappa<const N: usize>(m: &[[usize; N]; N]) -> f64 {
    let total: usize = m.iter().flatten().sum();
    if total == 0 {
        return 0.0;
    }
    let t = total as f64;
    let po = (0..N).map(|i| m[i][i]).sum::<usize>() as f64 / t;
    let pe: f64 = (0..N)
        .map(|k| {
            let row: usize = m[k].iter().sum();
            let col: usize = m.iter().map(|r| r[k]).sum();
            (row as f64 / t) * (col as f64 / t)
        })
        .sum();
    if (1.0 - pe).abs() < 1e-12 {
        return if (1.0 - po).abs() < 1e-12 { 1.0 } else { 0.0 };
    }
    (po - pe) / (1.0 - pe)
}

/// Stance of one theme when several pipeline findings give it: neutral yields to a
/// judgement; one judgement stands; strength with concern, or any mixed, is mixed.
pub fn merge_stances(stances: &[Stance]) -> Option<Stance> {
    let judged: BTreeSet<Stance> = stances
        .iter()
        .copied()
        .filter(|s| *s != Stance::Neutral)
        .collect();
    match judged.len() {
        0 => stances.first().copied(),
        1 => judged.into_iter().next(),
        _ => Some(Stance::Mixed),
    }
}

fn stance_index(s: Stance) -> usize {
    match s {
        Stance::Strength => 0,
        Stance::Concern => 1,
        Stance::Mixed => 2,
        Stance::Neutral => 3,
    }
}

// ---------------------------------------------------------------------------
// Key streams and locating
// ---------------------------------------------------------------------------

/// Appends the key characters of `text`: ASCII letters and digits lowercased,
/// ligatures expanded, common accented Latin letters folded; everything else dropped.
pub fn push_key(text: &str, out: &mut String) {
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !c.is_ascii() {
            if let Some(s) = fold_non_ascii(c) {
                out.push_str(s);
            }
        }
    }
}

/// The key string of `text` (see [`push_key`]).
pub fn key_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_key(text, &mut out);
    out
}

fn fold_non_ascii(c: char) -> Option<&'static str> {
    Some(match c {
        'ﬀ' => "ff",
        'ﬁ' => "fi",
        'ﬂ' => "fl",
        'ﬃ' => "ffi",
        'ﬄ' => "ffl",
        'ﬅ' | 'ﬆ' => "st",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ß' => "ss",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        _ => return None,
    })
}

/// A half-open range of key characters in a document's key stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Key characters shared with `other`.
    pub fn overlap(&self, other: &Span) -> usize {
        self.end
            .min(other.end)
            .saturating_sub(self.start.max(other.start))
    }
}

/// A document's key stream with a lazily built index of its `CHUNK`-grams.
pub struct Locator {
    key: String,
    grams: Option<Vec<u32>>,
}

impl Locator {
    pub fn new(source: &str) -> Locator {
        Locator {
            key: key_of(source),
            grams: None,
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    fn build_grams(&mut self) {
        if self.grams.is_some() {
            return;
        }
        let key = self.key.as_bytes();
        let n = key.len();
        if n < CHUNK || n > u32::MAX as usize {
            self.grams = Some(Vec::new());
            return;
        }
        self.grams = Some({
            let mut v: Vec<u32> = (0..=(n - CHUNK) as u32).collect();
            v.sort_unstable_by(|&a, &b| {
                let (a, b) = (a as usize, b as usize);
                key[a..a + CHUNK].cmp(&key[b..b + CHUNK]).then(a.cmp(&b))
            });
            v
        });
    }

    /// Locates a finding's key string (see the module doc), preferring a place at or
    /// after `cursor`.
    pub fn locate(&mut self, needle: &str, cursor: usize) -> Option<Span> {
        if needle.is_empty() {
            return None;
        }
        let cursor = cursor.min(self.key.len());
        if let Some(i) = self.key.get(cursor..).and_then(|k| k.find(needle)) {
            return Some(Span {
                start: cursor + i,
                end: cursor + i + needle.len(),
            });
        }
        if let Some(i) = self.key.find(needle) {
            return Some(Span {
                start: i,
                end: i + needle.len(),
            });
        }
        self.locate_chunks(needle.as_bytes(), cursor)
    }

    fn locate_chunks(&mut self, needle: &[u8], cursor: usize) -> Option<Span> {
        let n = needle.len();
        if n < CHUNK {
            return None;
        }
        let mut offsets: Vec<usize> = (0..n / CHUNK).map(|i| i * CHUNK).collect();
        if n % CHUNK != 0 {
            offsets.push(n - CHUNK);
        }
        let key_len = self.key.len();
        self.build_grams();
        let grams = self.grams.as_deref().unwrap_or(&[]);
        let key = self.key.as_bytes();
        let mut anchors: Vec<(usize, usize)> = Vec::new();
        for (ci, &o) in offsets.iter().enumerate() {
            let chunk = &needle[o..o + CHUNK];
            let lo = grams.partition_point(|&p| &key[p as usize..p as usize + CHUNK] < chunk);
            let hi = grams.partition_point(|&p| &key[p as usize..p as usize + CHUNK] <= chunk);
            let mut occ = &grams[lo..hi];
            if occ.len() > MAX_OCCURRENCES {
                let c = occ.partition_point(|&p| (p as usize) < cursor);
                let to = (c + MAX_OCCURRENCES / 2)
                    .min(occ.len())
                    .max(MAX_OCCURRENCES);
                occ = &occ[to - MAX_OCCURRENCES..to];
            }
            anchors.extend(occ.iter().map(|&p| (ci, p as usize)));
        }
        if anchors.is_empty() {
            return None;
        }
        // Longest chain of anchors in chunk order with plausible distances.
        let rank = |start: usize| -> (bool, usize) {
            if start >= cursor {
                (true, usize::MAX - (start - cursor))
            } else {
                (false, usize::MAX - (cursor - start))
            }
        };
        let implied_start = |a: (usize, usize)| a.1.saturating_sub(offsets[a.0]);
        let mut best: Vec<(usize, usize)> = Vec::with_capacity(anchors.len()); // (count, first anchor)
        for a in 0..anchors.len() {
            let (ca, pa) = anchors[a];
            let mut here = (1usize, a);
            for b in 0..a {
                let (cb, pb) = anchors[b];
                if cb >= ca || pb >= pa {
                    continue;
                }
                let expected = offsets[ca] - offsets[cb];
                let distance = pa - pb;
                if distance + MAX_DROP < expected || distance > expected + MAX_GAP {
                    continue;
                }
                let cand = (best[b].0 + 1, best[b].1);
                let better = cand.0 > here.0
                    || (cand.0 == here.0
                        && rank(implied_start(anchors[cand.1]))
                            > rank(implied_start(anchors[here.1])));
                if better {
                    here = cand;
                }
            }
            best.push(here);
        }
        let (last, &(count, first)) = best.iter().enumerate().max_by(|(x, a), (y, b)| {
            a.0.cmp(&b.0)
                .then(rank(implied_start(anchors[a.1])).cmp(&rank(implied_start(anchors[b.1]))))
                .then(y.cmp(x))
        })?;
        if count * 2 < offsets.len() {
            return None;
        }
        let (cf, pf) = anchors[first];
        let (cl, pl) = anchors[last];
        let start = pf.saturating_sub(offsets[cf]);
        let end = (pl + n - offsets[cl]).min(key_len);
        (end > start).then_some(Span { start, end })
    }
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

struct Tally {
    counts: HashMap<String, [usize; 3]>,
    confusion: [[usize; 4]; 4],
    errors: Vec<ThemeError>,
    stance_errors: Vec<StanceError>,
}

/// One scoring unit: a gold finding with its paired pipeline findings, or an unpaired
/// pipeline finding.
struct Unit<'a> {
    document: &'a str,
    gold_index: Option<usize>,
    gold: BTreeMap<&'a str, Stance>,
    predicted: BTreeMap<&'a str, Stance>,
    predicted_ids: Vec<u32>,
    text: &'a str,
    predicted_text: String,
}

fn labels_string(labels: &BTreeMap<&str, Stance>, order: &HashMap<&str, usize>) -> String {
    let mut v: Vec<(&str, Stance)> = labels.iter().map(|(t, s)| (*t, *s)).collect();
    v.sort_by(|a, b| {
        let ka = order.get(a.0).copied().unwrap_or(usize::MAX);
        let kb = order.get(b.0).copied().unwrap_or(usize::MAX);
        ka.cmp(&kb).then(a.0.cmp(b.0))
    });
    v.iter()
        .map(|(t, s)| format!("{t}={}", s.as_str()))
        .collect::<Vec<_>>()
        .join(";")
}

fn merged_labels<'a>(preds: &[&'a PredictedFinding]) -> BTreeMap<&'a str, Stance> {
    let mut all: BTreeMap<&'a str, Vec<Stance>> = BTreeMap::new();
    for p in preds {
        for (t, s) in &p.labels {
            all.entry(t.as_str()).or_default().push(*s);
        }
    }
    all.into_iter()
        .filter_map(|(t, v)| merge_stances(&v).map(|s| (t, s)))
        .collect()
}

impl Tally {
    fn score(&mut self, unit: &Unit, order: &HashMap<&str, usize>) {
        let themes: BTreeSet<&str> = unit
            .gold
            .keys()
            .chain(unit.predicted.keys())
            .copied()
            .collect();
        let mut gold_labels: Option<String> = None;
        let mut pred_labels: Option<String> = None;
        for theme in themes {
            let c = self.counts.entry(theme.to_string()).or_insert([0; 3]);
            let kind = match (unit.gold.get(theme), unit.predicted.get(theme)) {
                (Some(&g), Some(&p)) => {
                    c[0] += 1;
                    self.confusion[stance_index(g)][stance_index(p)] += 1;
                    if g != p {
                        self.stance_errors.push(StanceError {
                            document: unit.document.to_string(),
                            gold_index: unit.gold_index.unwrap_or(0),
                            predicted_ids: unit.predicted_ids.clone(),
                            theme: theme.to_string(),
                            gold: g,
                            predicted: p,
                            text: unit.text.to_string(),
                        });
                    }
                    continue;
                }
                (None, Some(_)) => {
                    c[1] += 1;
                    ErrorKind::FalsePositive
                }
                (Some(_), None) => {
                    c[2] += 1;
                    ErrorKind::FalseNegative
                }
                (None, None) => continue,
            };
            let gl = gold_labels
                .get_or_insert_with(|| labels_string(&unit.gold, order))
                .clone();
            let pl = pred_labels
                .get_or_insert_with(|| labels_string(&unit.predicted, order))
                .clone();
            self.errors.push(ThemeError {
                kind,
                document: unit.document.to_string(),
                gold_index: unit.gold_index,
                predicted_ids: unit.predicted_ids.clone(),
                theme: theme.to_string(),
                gold_labels: gl,
                predicted_labels: pl,
                text: unit.text.to_string(),
                predicted_text: unit.predicted_text.clone(),
            });
        }
    }
}

fn find_predicted<'a>(predicted: &'a [PredictedDoc], document: &str) -> Option<&'a PredictedDoc> {
    predicted
        .iter()
        .find(|p| p.document == document)
        .or_else(|| {
            let base = |s: &str| s.rsplit(['/', '\\']).next().unwrap_or("").to_string();
            let want = base(document);
            predicted.iter().find(|p| base(&p.document) == want)
        })
}

/// Pairs located gold spans with located pipeline spans (see the module doc). Returns,
/// for each gold finding, the indices of its paired pipeline findings in ascending order.
pub fn pair_spans(gold: &[Option<Span>], pred: &[Option<Span>]) -> Vec<Vec<usize>> {
    let mut by_start: Vec<(usize, Span)> = pred
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.filter(|s| !s.is_empty()).map(|s| (i, s)))
        .collect();
    by_start.sort_by_key(|(i, s)| (s.start, *i));
    let max_len = by_start.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
    let mut best_pred: Vec<Option<(usize, usize)>> = vec![None; gold.len()];
    let mut best_gold: Vec<Option<(usize, usize)>> = vec![None; pred.len()];
    for (gi, g) in gold.iter().enumerate() {
        let Some(g) = g.filter(|g| !g.is_empty()) else {
            continue;
        };
        let from = by_start.partition_point(|(_, s)| s.start < g.start.saturating_sub(max_len));
        for &(pi, p) in &by_start[from..] {
            if p.start >= g.end {
                break;
            }
            let ov = g.overlap(&p);
            if ov == 0 || ov * 2 < g.len().min(p.len()) {
                continue;
            }
            if best_pred[gi].is_none_or(|(o, _)| ov > o) {
                best_pred[gi] = Some((ov, pi));
            }
            if best_gold[pi].is_none_or(|(o, _)| ov > o) {
                best_gold[pi] = Some((ov, gi));
            }
        }
    }
    let mut out: Vec<Vec<usize>> = best_pred
        .iter()
        .map(|b| b.map(|(_, pi)| vec![pi]).unwrap_or_default())
        .collect();
    for (pi, b) in best_gold.iter().enumerate() {
        if let Some((_, gi)) = b {
            if !out[*gi].contains(&pi) {
                out[*gi].push(pi);
            }
        }
    }
    for v in &mut out {
        v.sort_unstable();
    }
    out
}

/// Scores `predicted` against `gold`. `themes` is the codebook in order; `required`
/// names the themes of the required macro F1.
pub fn evaluate(
    gold: &GoldSet,
    predicted: &[PredictedDoc],
    themes: &[String],
    required: &[String],
) -> Evaluation {
    let order: HashMap<&str, usize> = themes
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let mut tally = Tally {
        counts: HashMap::new(),
        confusion: [[0; 4]; 4],
        errors: Vec::new(),
        stance_errors: Vec::new(),
    };
    let mut alignment = Alignment::default();

    // Gold findings grouped by document, documents in order of first appearance.
    let mut doc_order: Vec<&str> = Vec::new();
    let mut by_doc: HashMap<&str, Vec<&GoldFinding>> = HashMap::new();
    for f in &gold.findings {
        let entry = by_doc.entry(f.document.as_str()).or_default();
        if entry.is_empty() {
            doc_order.push(f.document.as_str());
        }
        entry.push(f);
    }
    let mut all_docs: BTreeSet<&str> = doc_order.iter().copied().collect();
    all_docs.extend(gold.metadata.iter().map(|m| m.document.as_str()));
    alignment.gold_documents = all_docs.len();
    alignment.documents_missing = all_docs
        .iter()
        .filter(|d| find_predicted(predicted, d).is_none())
        .map(|d| d.to_string())
        .collect();

    for document in &doc_order {
        let golds = by_doc.get(document).map(Vec::as_slice).unwrap_or(&[]);
        alignment.gold_findings += golds.len();
        let gold_maps: Vec<BTreeMap<&str, Stance>> = golds
            .iter()
            .map(|g| g.labels.iter().map(|(t, s)| (t.as_str(), *s)).collect())
            .collect();
        let Some(doc) = find_predicted(predicted, document) else {
            for (i, g) in golds.iter().enumerate() {
                alignment.unplaced.push(Unplaced {
                    document: document.to_string(),
                    gold_index: i + 1,
                    reason: UnplacedReason::DocumentMissing,
                    labels: labels_string(&gold_maps[i], &order),
                    text: g.text.clone(),
                });
                tally.score(
                    &Unit {
                        document,
                        gold_index: Some(i + 1),
                        gold: gold_maps[i].clone(),
                        predicted: BTreeMap::new(),
                        predicted_ids: Vec::new(),
                        text: &g.text,
                        predicted_text: String::new(),
                    },
                    &order,
                );
            }
            continue;
        };
        let mut locator = Locator::new(&doc.source);
        let mut cursor = 0;
        let pred_spans: Vec<Option<Span>> = doc
            .findings
            .iter()
            .map(|p| {
                let s = locator.locate(&key_of(&p.text), cursor);
                if let Some(s) = s {
                    cursor = s.end;
                }
                s
            })
            .collect();
        cursor = 0;
        let gold_spans: Vec<Option<Span>> = golds
            .iter()
            .map(|g| {
                let s = locator.locate(&key_of(&g.text), cursor);
                if let Some(s) = s {
                    cursor = s.end;
                }
                s
            })
            .collect();
        let pairs = pair_spans(&gold_spans, &pred_spans);
        alignment.predicted_findings += doc.findings.len();
        alignment.predicted_not_located += pred_spans.iter().filter(|s| s.is_none()).count();
        let mut paired = vec![false; doc.findings.len()];
        for v in &pairs {
            for &pi in v {
                paired[pi] = true;
            }
        }
        alignment.predicted_paired += paired.iter().filter(|p| **p).count();

        // Units in reading order: gold findings at their spans (unlocated ones after
        // the previous gold finding), unpaired pipeline findings at theirs.
        let mut units: Vec<(usize, usize, Unit)> = Vec::new();
        let mut last_pos = 0;
        for (gi, g) in golds.iter().enumerate() {
            let preds: Vec<&PredictedFinding> =
                pairs[gi].iter().map(|&pi| &doc.findings[pi]).collect();
            if preds.is_empty() {
                alignment.unplaced.push(Unplaced {
                    document: document.to_string(),
                    gold_index: gi + 1,
                    reason: if gold_spans[gi].is_some() {
                        UnplacedReason::NoOverlap
                    } else {
                        UnplacedReason::NotLocated
                    },
                    labels: labels_string(&gold_maps[gi], &order),
                    text: g.text.clone(),
                });
            } else {
                alignment.placed += 1;
            }
            if let Some(s) = gold_spans[gi] {
                last_pos = s.start;
            }
            units.push((
                last_pos,
                0,
                Unit {
                    document,
                    gold_index: Some(gi + 1),
                    gold: gold_maps[gi].clone(),
                    predicted: merged_labels(&preds),
                    predicted_ids: preds.iter().map(|p| p.finding_id).collect(),
                    text: &g.text,
                    predicted_text: preds
                        .iter()
                        .map(|p| p.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" | "),
                },
            ));
        }
        for (pi, p) in doc.findings.iter().enumerate() {
            if paired[pi] {
                continue;
            }
            let pos = pred_spans[pi].map(|s| s.start).unwrap_or(usize::MAX);
            units.push((
                pos,
                1,
                Unit {
                    document,
                    gold_index: None,
                    gold: BTreeMap::new(),
                    predicted: merged_labels(&[p]),
                    predicted_ids: vec![p.finding_id],
                    text: &p.text,
                    predicted_text: p.text.clone(),
                },
            ));
        }
        units.sort_by_key(|(pos, kind, _)| (*pos, *kind));
        for (_, _, unit) in &units {
            tally.score(unit, &order);
        }
    }

    // Per-theme scores: codebook order, then other themes alphabetically.
    let mut theme_names: Vec<String> = themes.to_vec();
    let mut extra: Vec<&String> = tally
        .counts
        .keys()
        .filter(|t| !order.contains_key(t.as_str()))
        .collect();
    extra.sort();
    theme_names.extend(extra.into_iter().cloned());
    let mut seen = BTreeSet::new();
    theme_names.retain(|t| seen.insert(t.clone()));
    let score_of = |t: &str| {
        let c = tally.counts.get(t).copied().unwrap_or([0; 3]);
        ThemeScore::new(t, c[0], c[1], c[2])
    };
    let theme_scores: Vec<ThemeScore> = theme_names.iter().map(|t| score_of(t)).collect();
    let (tp, fp, fn_) = theme_scores
        .iter()
        .fold((0, 0, 0), |a, s| (a.0 + s.tp, a.1 + s.fp, a.2 + s.fn_));
    let micro = ThemeScore::new("micro", tp, fp, fn_);
    let (macro_f1, macro_themes) = macro_mean(theme_scores.iter());
    let required_scores: Vec<ThemeScore> = required.iter().map(|t| score_of(t)).collect();
    let (required_macro_f1, required_themes_counted) = macro_mean(required_scores.iter());

    let pairs: usize = tally.confusion.iter().flatten().sum();
    let agree: usize = (0..4).map(|i| tally.confusion[i][i]).sum();
    let stance = StanceAgreement {
        confusion: tally.confusion,
        pairs,
        accuracy: ratio(agree, pairs),
        kappa: cohen_kappa(&tally.confusion),
    };

    let (metadata_fields, metadata_mismatches) = score_metadata(&gold.metadata, predicted);

    Evaluation {
        themes: theme_scores,
        micro,
        macro_f1,
        macro_themes,
        required: required.to_vec(),
        required_macro_f1,
        required_themes_counted,
        stance,
        stance_errors: tally.stance_errors,
        metadata_fields,
        metadata_mismatches,
        alignment,
        errors: tally.errors,
    }
}

fn macro_mean<'a>(scores: impl Iterator<Item = &'a ThemeScore>) -> (f64, usize) {
    let counted: Vec<f64> = scores
        .filter(|s| s.counted_in_macro())
        .map(|s| s.f1)
        .collect();
    if counted.is_empty() {
        (0.0, 0)
    } else {
        (
            counted.iter().sum::<f64>() / counted.len() as f64,
            counted.len(),
        )
    }
}

fn normalise_field(field: &str, value: &str) -> String {
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    match field {
        "authority" => collapsed.to_lowercase(),
        "judgements" => {
            let mut parts: Vec<String> = collapsed
                .split(';')
                .map(|p| p.split_whitespace().collect::<String>())
                .filter(|p| !p.is_empty())
                .collect();
            parts.sort();
            parts.join(";")
        }
        _ => collapsed,
    }
}

fn score_metadata(
    gold: &[GoldMetadata],
    predicted: &[PredictedDoc],
) -> (Vec<FieldAccuracy>, Vec<MetadataMismatch>) {
    let mut fields: Vec<String> = Vec::new();
    let all: BTreeSet<&str> = gold
        .iter()
        .flat_map(|g| g.fields.keys().map(String::as_str))
        .collect();
    for f in METADATA_FIELDS {
        if all.contains(f) {
            fields.push(f.to_string());
        }
    }
    for f in &all {
        if !METADATA_FIELDS.contains(f) {
            fields.push(f.to_string());
        }
    }
    let mut correct = vec![0usize; fields.len()];
    let mut total = vec![0usize; fields.len()];
    let mut mismatches = Vec::new();
    let empty = BTreeMap::new();
    for g in gold {
        let pred = find_predicted(predicted, &g.document)
            .map(|p| &p.metadata)
            .unwrap_or(&empty);
        for (i, field) in fields.iter().enumerate() {
            let Some(gv) = g.fields.get(field) else {
                continue;
            };
            let pv = pred.get(field).map(String::as_str).unwrap_or("");
            total[i] += 1;
            if normalise_field(field, gv) == normalise_field(field, pv) {
                correct[i] += 1;
            } else {
                mismatches.push(MetadataMismatch {
                    document: g.document.clone(),
                    field: field.clone(),
                    gold: gv.clone(),
                    predicted: pv.to_string(),
                });
            }
        }
    }
    let acc = fields
        .into_iter()
        .enumerate()
        .map(|(i, field)| FieldAccuracy {
            field,
            correct: correct[i],
            total: total[i],
            accuracy: ratio(correct[i], total[i]),
        })
        .collect();
    (acc, mismatches)
}

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------

fn f4(x: f64) -> String {
    format!("{x:.4}")
}

fn ids_string(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(";")
}

fn csv_bytes(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let write = || -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(header)?;
        for r in rows {
            w.write_record(r)?;
        }
        w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
    };
    write().unwrap_or_default()
}

impl Evaluation {
    pub fn micro_f1(&self) -> f64 {
        self.micro.f1
    }

    pub fn macro_f1(&self) -> f64 {
        self.macro_f1
    }

    pub fn required_macro_f1(&self) -> f64 {
        self.required_macro_f1
    }

    pub fn stance_accuracy(&self) -> f64 {
        self.stance.accuracy
    }

    pub fn stance_kappa(&self) -> f64 {
        self.stance.kappa
    }

    /// Metadata values matching gold over all fields and documents.
    pub fn metadata_accuracy(&self) -> f64 {
        let c: usize = self.metadata_fields.iter().map(|f| f.correct).sum();
        let t: usize = self.metadata_fields.iter().map(|f| f.total).sum();
        ratio(c, t)
    }

    /// Share of gold findings placed (paired with a pipeline finding).
    pub fn placed_share(&self) -> f64 {
        ratio(self.alignment.placed, self.alignment.gold_findings)
    }

    /// `(metric, value)` pairs of `summary.csv`.
    pub fn summary(&self) -> Vec<(String, String)> {
        let a = &self.alignment;
        let mut v: Vec<(String, String)> = vec![
            ("micro_precision".into(), f4(self.micro.precision)),
            ("micro_recall".into(), f4(self.micro.recall)),
            ("micro_f1".into(), f4(self.micro.f1)),
            ("micro_tp".into(), self.micro.tp.to_string()),
            ("micro_fp".into(), self.micro.fp.to_string()),
            ("micro_fn".into(), self.micro.fn_.to_string()),
            ("macro_f1".into(), f4(self.macro_f1)),
            ("macro_f1_themes".into(), self.macro_themes.to_string()),
            ("required_macro_f1".into(), f4(self.required_macro_f1)),
            (
                "required_macro_f1_themes".into(),
                self.required_themes_counted.to_string(),
            ),
            ("required_themes".into(), self.required.join(";")),
            ("stance_pairs".into(), self.stance.pairs.to_string()),
            ("stance_accuracy".into(), f4(self.stance.accuracy)),
            ("stance_kappa".into(), f4(self.stance.kappa)),
            ("metadata_accuracy".into(), f4(self.metadata_accuracy())),
        ];
        for f in &self.metadata_fields {
            v.push((format!("metadata_accuracy.{}", f.field), f4(f.accuracy)));
        }
        v.extend([
            ("gold_documents".into(), a.gold_documents.to_string()),
            (
                "documents_missing".into(),
                a.documents_missing.len().to_string(),
            ),
            ("gold_findings".into(), a.gold_findings.to_string()),
            ("gold_placed".into(), a.placed.to_string()),
            ("gold_unplaced".into(), a.unplaced.len().to_string()),
            (
                "predicted_findings".into(),
                a.predicted_findings.to_string(),
            ),
            ("predicted_paired".into(), a.predicted_paired.to_string()),
            (
                "predicted_unpaired".into(),
                (a.predicted_findings - a.predicted_paired.min(a.predicted_findings)).to_string(),
            ),
            (
                "predicted_not_located".into(),
                a.predicted_not_located.to_string(),
            ),
        ]);
        v
    }

    /// A fixed-width report for a terminal.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let width = self
            .themes
            .iter()
            .map(|t| t.theme.len())
            .chain([22])
            .max()
            .unwrap_or(22);
        let _ = writeln!(
            s,
            "{:<width$}  {:>9}  {:>7}  {:>7}  {:>7}  {:>6}  {:>6}  {:>6}",
            "theme", "precision", "recall", "f1", "support", "tp", "fp", "fn"
        );
        let row = |s: &mut String, t: &ThemeScore| {
            let _ = writeln!(
                s,
                "{:<width$}  {:>9}  {:>7}  {:>7}  {:>7}  {:>6}  {:>6}  {:>6}",
                t.theme,
                f4(t.precision),
                f4(t.recall),
                f4(t.f1),
                t.support,
                t.tp,
                t.fp,
                t.fn_
            );
        };
        for t in &self.themes {
            row(&mut s, t);
        }
        let _ = writeln!(s, "{}", "-".repeat(width + 62));
        row(&mut s, &self.micro);
        let _ = writeln!(
            s,
            "{:<width$}  {:>9}  {:>7}  {:>7}  ({} themes with support or predictions)",
            "macro",
            "",
            "",
            f4(self.macro_f1),
            self.macro_themes
        );
        let _ = writeln!(
            s,
            "{:<width$}  {:>9}  {:>7}  {:>7}  ({} of {} required themes counted)",
            "required macro",
            "",
            "",
            f4(self.required_macro_f1),
            self.required_themes_counted,
            self.required.len()
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "stance on {} pairs tagged by both: accuracy {}, kappa {}",
            self.stance.pairs,
            f4(self.stance.accuracy),
            f4(self.stance.kappa)
        );
        let _ = writeln!(
            s,
            "{:<14}{:>10}{:>10}{:>10}{:>10}",
            "gold \\ pred", "strength", "concern", "mixed", "neutral"
        );
        for (i, st) in Stance::ALL.iter().enumerate() {
            let r = &self.stance.confusion[i];
            let _ = writeln!(
                s,
                "{:<14}{:>10}{:>10}{:>10}{:>10}",
                st.as_str(),
                r[0],
                r[1],
                r[2],
                r[3]
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "metadata accuracy {} ({} mismatches)",
            f4(self.metadata_accuracy()),
            self.metadata_mismatches.len()
        );
        for f in &self.metadata_fields {
            let _ = writeln!(
                s,
                "  {:<12}{:>5}/{:<5}{:>8}",
                f.field,
                f.correct,
                f.total,
                f4(f.accuracy)
            );
        }
        let a = &self.alignment;
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "alignment: {} gold findings, {} placed, {} unplaced ({} documents, {} missing)",
            a.gold_findings,
            a.placed,
            a.unplaced.len(),
            a.gold_documents,
            a.documents_missing.len()
        );
        let _ = writeln!(
            s,
            "pipeline: {} findings in gold documents, {} paired, {} unpaired, {} not located",
            a.predicted_findings,
            a.predicted_paired,
            a.predicted_findings.saturating_sub(a.predicted_paired),
            a.predicted_not_located
        );
        for d in &a.documents_missing {
            let _ = writeln!(s, "  missing document: {d}");
        }
        s
    }

    /// File names and CSV bytes: `themes.csv`, `stance_confusion.csv`,
    /// `stance_errors.csv`, `metadata_mismatches.csv`, `errors.csv`, `unplaced.csv`,
    /// `summary.csv`.
    pub fn write_csvs(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut themes: Vec<Vec<String>> = self
            .themes
            .iter()
            .chain([&self.micro])
            .map(|t| {
                vec![
                    t.theme.clone(),
                    f4(t.precision),
                    f4(t.recall),
                    f4(t.f1),
                    t.support.to_string(),
                    t.tp.to_string(),
                    t.fp.to_string(),
                    t.fn_.to_string(),
                ]
            })
            .collect();
        themes.push(vec![
            "macro".into(),
            String::new(),
            String::new(),
            f4(self.macro_f1),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
        let confusion: Vec<Vec<String>> = Stance::ALL
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let mut r = vec![st.as_str().to_string()];
                r.extend(self.stance.confusion[i].iter().map(usize::to_string));
                r
            })
            .collect();
        let stance_errors: Vec<Vec<String>> = self
            .stance_errors
            .iter()
            .map(|e| {
                vec![
                    e.document.clone(),
                    e.gold_index.to_string(),
                    ids_string(&e.predicted_ids),
                    e.theme.clone(),
                    e.gold.as_str().into(),
                    e.predicted.as_str().into(),
                    e.text.clone(),
                ]
            })
            .collect();
        let mismatches: Vec<Vec<String>> = self
            .metadata_mismatches
            .iter()
            .map(|m| {
                vec![
                    m.document.clone(),
                    m.field.clone(),
                    m.gold.clone(),
                    m.predicted.clone(),
                ]
            })
            .collect();
        let errors: Vec<Vec<String>> = self
            .errors
            .iter()
            .map(|e| {
                vec![
                    e.kind.as_str().into(),
                    e.document.clone(),
                    e.gold_index.map(|i| i.to_string()).unwrap_or_default(),
                    ids_string(&e.predicted_ids),
                    e.theme.clone(),
                    e.gold_labels.clone(),
                    e.predicted_labels.clone(),
                    e.text.clone(),
                    e.predicted_text.clone(),
                ]
            })
            .collect();
        let unplaced: Vec<Vec<String>> = self
            .alignment
            .unplaced
            .iter()
            .map(|u| {
                vec![
                    u.document.clone(),
                    u.gold_index.to_string(),
                    u.reason.as_str().into(),
                    u.labels.clone(),
                    u.text.clone(),
                ]
            })
            .collect();
        let summary: Vec<Vec<String>> = self
            .summary()
            .into_iter()
            .map(|(k, v)| vec![k, v])
            .collect();
        vec![
            (
                "themes.csv",
                csv_bytes(
                    &[
                        "theme",
                        "precision",
                        "recall",
                        "f1",
                        "support",
                        "tp",
                        "fp",
                        "fn",
                    ],
                    &themes,
                ),
            ),
            (
                "stance_confusion.csv",
                csv_bytes(
                    &["gold", "strength", "concern", "mixed", "neutral"],
                    &confusion,
                ),
            ),
            (
                "stance_errors.csv",
                csv_bytes(
                    &[
                        "document",
                        "gold_index",
                        "predicted_ids",
                        "theme",
                        "gold_stance",
                        "predicted_stance",
                        "text",
                    ],
                    &stance_errors,
                ),
            ),
            (
                "metadata_mismatches.csv",
                csv_bytes(&["document", "field", "gold", "predicted"], &mismatches),
            ),
            (
                "errors.csv",
                csv_bytes(
                    &[
                        "kind",
                        "document",
                        "gold_index",
                        "predicted_ids",
                        "theme",
                        "gold_labels",
                        "predicted_labels",
                        "text",
                        "predicted_text",
                    ],
                    &errors,
                ),
            ),
            (
                "unplaced.csv",
                csv_bytes(
                    &["document", "gold_index", "reason", "labels", "text"],
                    &unplaced,
                ),
            ),
            ("summary.csv", csv_bytes(&["metric", "value"], &summary)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> String {
        x.to_string()
    }

    fn gf(doc: &str, text: &str, labels: &[(&str, Stance)]) -> GoldFinding {
        GoldFinding {
            document: s(doc),
            text: s(text),
            labels: labels.iter().map(|(t, st)| (s(t), *st)).collect(),
        }
    }

    fn pf(id: u32, text: &str, labels: &[(&str, Stance)]) -> PredictedFinding {
        PredictedFinding {
            finding_id: id,
            text: s(text),
            labels: labels.iter().map(|(t, st)| (s(t), *st)).collect(),
        }
    }

    fn doc(name: &str, source: &str, findings: Vec<PredictedFinding>) -> PredictedDoc {
        PredictedDoc {
            document: s(name),
            source: s(source),
            metadata: BTreeMap::new(),
            findings,
        }
    }

    fn codebook() -> Vec<String> {
        ["thresholds", "strategy_meetings", "caseloads", "workforce"]
            .iter()
            .map(|t| s(t))
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    use Stance::{Concern, Mixed, Neutral, Strength};

    #[test]
    fn prf_table() {
        // (tp, fp, fn) -> (precision, recall, f1)
        let cases = [
            // p = 3/4 = 0.75, r = 3/5 = 0.6, f1 = 2 * 0.75 * 0.6 / 1.35 = 0.6667
            ((3, 1, 2), (0.75, 0.6, 0.6667)),
            // all denominators zero: everything 0
            ((0, 0, 0), (0.0, 0.0, 0.0)),
            // only false positives: p = 0, r = 0 (0/0), f1 = 0
            ((0, 5, 0), (0.0, 0.0, 0.0)),
            // only false negatives: p = 0 (0/0), r = 0
            ((0, 0, 4), (0.0, 0.0, 0.0)),
            ((5, 0, 0), (1.0, 1.0, 1.0)),
            // p = 1/2, r = 1/4, f1 = 2 * 0.5 * 0.25 / 0.75 = 1/3
            ((1, 1, 3), (0.5, 0.25, 0.3333)),
        ];
        for ((tp, fp, fn_), (p, r, f)) in cases {
            let got = prf(tp, fp, fn_);
            assert!(
                close(got.0, p) && close(got.1, r) && close(got.2, f),
                "{tp} {fp} {fn_}: {got:?}"
            );
        }
    }

    #[test]
    fn kappa_table() {
        let cases: [([[usize; 2]; 2], f64); 6] = [
            // po = 6/8 = 0.75; marginals 4/8 each, pe = 0.25 + 0.25 = 0.5;
            // kappa = (0.75 - 0.5) / (1 - 0.5) = 0.5
            ([[3, 1], [1, 3]], 0.5),
            // perfect agreement: po = 1, pe = 0.5, kappa = 1
            ([[5, 0], [0, 5]], 1.0),
            // chance agreement: po = 0.5, pe = 0.5, kappa = 0
            ([[1, 1], [1, 1]], 0.0),
            // total disagreement: po = 0, pe = 0.5, kappa = -1
            ([[0, 2], [2, 0]], -1.0),
            // one category only: pe = 1 and po = 1, kappa = 1 by convention
            ([[4, 0], [0, 0]], 1.0),
            // no pairs: 0 by convention
            ([[0, 0], [0, 0]], 0.0),
        ];
        for (m, k) in cases {
            assert!(close(cohen_kappa(&m), k), "{m:?}: {}", cohen_kappa(&m));
        }
        // The 4x4 form: the 2x2 case above embedded in strength/concern.
        let m4 = [[3, 1, 0, 0], [1, 3, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]];
        assert!(close(cohen_kappa(&m4), 0.5));
    }

    #[test]
    fn merge_stances_table() {
        let cases: [(&[Stance], Option<Stance>); 7] = [
            (&[], None),
            (&[Neutral], Some(Neutral)),
            (&[Strength, Strength], Some(Strength)),
            (&[Neutral, Concern], Some(Concern)),
            (&[Strength, Concern], Some(Mixed)),
            (&[Mixed, Neutral], Some(Mixed)),
            (&[Strength, Mixed], Some(Mixed)),
        ];
        for (input, want) in cases {
            assert_eq!(merge_stances(input), want, "{input:?}");
        }
    }

    #[test]
    fn parse_labels_table() {
        assert_eq!(parse_labels("").unwrap(), vec![]);
        assert_eq!(
            parse_labels("thresholds=strength; caseloads=concern;").unwrap(),
            vec![(s("thresholds"), Strength), (s("caseloads"), Concern)]
        );
        for bad in [
            "thresholds=good",
            "thresholds",
            "=strength",
            "thresholds=strength;thresholds=concern",
        ] {
            assert!(parse_labels(bad).is_err(), "{bad}");
        }
        let e = parse_labels("thresholds=good").unwrap_err().to_string();
        assert!(e.contains("unknown stance \"good\""), "{e}");
    }

    #[test]
    fn load_reads_files_and_names_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("findings.csv"),
            "document,text,labels\n\
             a.txt,Thresholds are well understood.,thresholds=strength\n\
             a.txt,\"Caseloads are high, and rising.\",caseloads=concern;workforce=neutral\n\
             a.txt,Inspectors met staff.,\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("metadata.csv"),
            "document,authority,year\na.txt,Wirral,2018\n",
        )
        .unwrap();
        let g = GoldSet::load(dir.path()).unwrap();
        assert_eq!(g.findings.len(), 3);
        assert_eq!(g.findings[1].labels.len(), 2);
        assert!(g.findings[2].labels.is_empty());
        assert_eq!(g.metadata[0].fields["authority"], "Wirral");

        std::fs::write(
            dir.path().join("findings.csv"),
            "document,text,labels\na.txt,One.,\na.txt,Two.,thresholds=great\n",
        )
        .unwrap();
        let e = GoldSet::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("findings.csv"), "{e}");
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("\"great\""), "{e}");

        std::fs::write(dir.path().join("findings.csv"), "document,text,labels\n").unwrap();
        std::fs::write(
            dir.path().join("metadata.csv"),
            "document,authority\na.txt,Wirral\na.txt,Wigan\n",
        )
        .unwrap();
        let e = GoldSet::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("metadata.csv") && e.contains("line 3"), "{e}");

        std::fs::remove_file(dir.path().join("metadata.csv")).unwrap();
        let e = format!("{:#}", GoldSet::load(dir.path()).unwrap_err());
        assert!(e.contains("metadata.csv"), "{e}");
    }

    #[test]
    fn key_stream_ignores_marks_and_folds_ligatures() {
        assert_eq!(key_of("**Well-being**, it’s “fine”."), "wellbeingitsfine");
        assert_eq!(key_of("ﬁnancial café"), "financialcafe");
        assert_eq!(key_of("- 12. The"), "12the");
    }

    #[test]
    fn locator_bridges_running_header() {
        let source = "Senior management oversight of vulnerable children has been strengthened through a \n \nInspection of Nottingham City local authority children’s services \n11 July 2022 4 \nrange of panels and monitoring systems. A quality assurance framework is embedded.";
        let gold = "Senior management oversight of vulnerable children has been strengthened through a range of panels and monitoring systems.";
        let mut loc = Locator::new(source);
        let span = loc.locate(&key_of(gold), 0).unwrap();
        let k = loc.key().to_string();
        assert!(k[span.start..span.end].starts_with("seniormanagement"));
        assert!(k[span.start..span.end].ends_with("monitoringsystems"));
    }

    #[test]
    fn locator_never_panics_on_odd_input() {
        let mut loc = Locator::new("");
        assert_eq!(loc.locate("abc", 0), None);
        assert_eq!(loc.locate("", 0), None);
        let mut loc = Locator::new("short");
        assert_eq!(loc.locate("muchlongerthanthesourcetext", 99), None);
        let mut loc = Locator::new("ééé ﬁ ✓ 日本 ok");
        assert!(loc.locate("ok", 1000).is_some());
        // A needle whose chunks are all found but in reverse order does not place.
        let mut loc = Locator::new("dddddddddddd cccccccccccc bbbbbbbbbbbb aaaaaaaaaaaa");
        let needle = "aaaaaaaaaaaabbbbbbbbbbbbccccccccccccdddddddddddd";
        assert_eq!(loc.locate(needle, 0), None);
    }

    const HEADER_DOC: &str = "Overview\n\nThresholds are well understood by partners. Strategy meetings are timely and \n\nInspection of Nottingham City local authority children’s services 11 July 2022 4\n\nidentify risk appropriately. Caseloads are high.\n\nContact us at the address below.";

    #[test]
    fn alignment_page_header_interruption() {
        let gold = GoldSet {
            findings: vec![
                gf(
                    "d.txt",
                    "Thresholds are well understood by partners.",
                    &[("thresholds", Strength)],
                ),
                gf(
                    "d.txt",
                    "Strategy meetings are timely and identify risk appropriately.",
                    &[("strategy_meetings", Strength)],
                ),
                gf("d.txt", "Caseloads are high.", &[("caseloads", Concern)]),
            ],
            metadata: vec![],
        };
        // The pipeline kept the sentence whole but removed the header.
        let pred = doc(
            "d.txt",
            HEADER_DOC,
            vec![
                pf(1, "Overview", &[]),
                pf(
                    2,
                    "Thresholds are well understood by partners.",
                    &[("thresholds", Strength)],
                ),
                pf(
                    3,
                    "Strategy meetings are timely and identify risk appropriately.",
                    &[("strategy_meetings", Strength)],
                ),
                pf(4, "Caseloads are high.", &[("caseloads", Strength)]),
                pf(5, "Contact us at the address below.", &[]),
            ],
        );
        let e = evaluate(&gold, &[pred], &codebook(), &[]);
        assert_eq!(e.alignment.placed, 3);
        assert!(e.alignment.unplaced.is_empty());
        assert_eq!(e.alignment.predicted_paired, 3);
        assert_eq!((e.micro.tp, e.micro.fp, e.micro.fn_), (3, 0, 0));
        // Caseloads: gold concern, predicted strength.
        assert_eq!(e.stance.confusion[1][0], 1);
        assert_eq!(e.stance.pairs, 3);
        assert!(close(e.stance.accuracy, 2.0 / 3.0));
        assert_eq!(e.stance_errors.len(), 1);
        assert_eq!(e.stance_errors[0].gold_index, 3);
    }

    #[test]
    fn alignment_pipeline_text_with_header_glued() {
        let gold = GoldSet {
            findings: vec![gf(
                "d.txt",
                "Strategy meetings are timely and identify risk appropriately.",
                &[("strategy_meetings", Strength)],
            )],
            metadata: vec![],
        };
        // The pipeline kept the running header inside its finding.
        let pred = doc(
            "d.txt",
            HEADER_DOC,
            vec![pf(
                7,
                "Strategy meetings are timely and Inspection of Nottingham City local authority children's services 11 July 2022 4 identify risk appropriately.",
                &[("strategy_meetings", Strength)],
            )],
        );
        let e = evaluate(&gold, &[pred], &codebook(), &[]);
        assert_eq!(e.alignment.placed, 1);
        assert_eq!(e.micro.tp, 1);
    }

    #[test]
    fn alignment_numbered_paragraph_label() {
        let source = "- 12. The capacity of the front door team is stretched. Managers review all contacts within 24 hours.\n- 13. Audits are thorough.";
        let gold = GoldSet {
            findings: vec![
                gf(
                    "d.txt",
                    "The capacity of the front door team is stretched.",
                    &[("caseloads", Concern)],
                ),
                gf(
                    "d.txt",
                    "Managers review all contacts within 24 hours.",
                    &[],
                ),
                gf("d.txt", "Audits are thorough.", &[]),
            ],
            metadata: vec![],
        };
        let pred = doc(
            "d.txt",
            source,
            vec![
                pf(
                    1,
                    "The capacity of the front door team is stretched.",
                    &[("caseloads", Concern)],
                ),
                pf(
                    2,
                    "Managers review all contacts within 24 hours.",
                    &[("thresholds", Neutral)],
                ),
                pf(3, "13. Audits are thorough.", &[]),
            ],
        );
        let e = evaluate(&gold, &[pred], &codebook(), &[]);
        assert_eq!(e.alignment.placed, 3);
        assert_eq!((e.micro.tp, e.micro.fp, e.micro.fn_), (1, 1, 0));
        assert_eq!(e.errors.len(), 1);
        let err = &e.errors[0];
        assert_eq!(err.kind, ErrorKind::FalsePositive);
        assert_eq!(err.gold_index, Some(2));
        assert_eq!(err.predicted_ids, vec![2]);
        assert_eq!(err.theme, "thresholds");
        assert_eq!(err.predicted_labels, "thresholds=neutral");
    }

    #[test]
    fn alignment_split_sentence_unites_labels() {
        let source = "Workforce stability has improved; however, agency use remains high. Next.";
        let gold = GoldSet {
            findings: vec![gf(
                "d.txt",
                "Workforce stability has improved; however, agency use remains high.",
                &[("workforce", Mixed)],
            )],
            metadata: vec![],
        };
        let pred = doc(
            "d.txt",
            source,
            vec![
                pf(
                    1,
                    "Workforce stability has improved;",
                    &[("workforce", Strength)],
                ),
                pf(
                    2,
                    "however, agency use remains high.",
                    &[("workforce", Concern)],
                ),
                pf(3, "Next.", &[]),
            ],
        );
        let e = evaluate(&gold, &[pred], &codebook(), &[]);
        assert_eq!(e.alignment.placed, 1);
        assert_eq!(e.alignment.predicted_paired, 2);
        assert_eq!((e.micro.tp, e.micro.fp, e.micro.fn_), (1, 0, 0));
        // strength + concern merge to mixed, which agrees with gold.
        assert_eq!(e.stance.confusion[2][2], 1);
    }

    #[test]
    fn alignment_merged_prediction_pairs_both_gold() {
        let source = "Caseloads are high. Staff turnover is high.";
        let gold = GoldSet {
            findings: vec![
                gf("d.txt", "Caseloads are high.", &[("caseloads", Concern)]),
                gf(
                    "d.txt",
                    "Staff turnover is high.",
                    &[("workforce", Concern)],
                ),
            ],
            metadata: vec![],
        };
        let pred = doc(
            "d.txt",
            source,
            vec![pf(
                1,
                "Caseloads are high. Staff turnover is high.",
                &[("caseloads", Concern), ("workforce", Concern)],
            )],
        );
        let e = evaluate(&gold, &[pred], &codebook(), &[]);
        assert_eq!(e.alignment.placed, 2);
        // Each gold finding is scored against the merged prediction's labels.
        assert_eq!((e.micro.tp, e.micro.fp, e.micro.fn_), (2, 2, 0));
    }

    #[test]
    fn alignment_unplaced_gold_counts_as_false_negatives() {
        let source = "Thresholds are applied well. Caseloads are manageable.";
        let gold = GoldSet {
            findings: vec![
                gf(
                    "d.txt",
                    "Thresholds are applied well.",
                    &[("thresholds", Strength)],
                ),
                gf(
                    "d.txt",
                    "Strategy meetings are always quorate and recorded.",
                    &[("strategy_meetings", Strength)],
                ),
                gf(
                    "d.txt",
                    "Caseloads are manageable.",
                    &[("caseloads", Strength)],
                ),
            ],
            metadata: vec![],
        };
        // The pipeline dropped the caseload sentence.
        let pred = doc(
            "d.txt",
            source,
            vec![pf(
                1,
                "Thresholds are applied well.",
                &[("thresholds", Strength)],
            )],
        );
        let e = evaluate(&gold, &[pred], &codebook(), &[s("strategy_meetings")]);
        assert_eq!(e.alignment.placed, 1);
        assert_eq!(e.alignment.unplaced.len(), 2);
        assert_eq!(e.alignment.unplaced[0].reason, UnplacedReason::NotLocated);
        assert_eq!(e.alignment.unplaced[0].gold_index, 2);
        assert_eq!(e.alignment.unplaced[1].reason, UnplacedReason::NoOverlap);
        assert_eq!((e.micro.tp, e.micro.fp, e.micro.fn_), (1, 0, 2));
        assert_eq!(e.required_macro_f1(), 0.0);
        assert_eq!(e.required_themes_counted, 1);
    }

    #[test]
    fn unpaired_prediction_counts_as_false_positive() {
        let source = "Inspection of children's services\n\nThresholds are applied well.";
        let gold = GoldSet {
            findings: vec![gf(
                "d.txt",
                "Thresholds are applied well.",
                &[("thresholds", Strength)],
            )],
            metadata: vec![],
        };
        let pred = doc(
            "d.txt",
            source,
            vec![
                pf(
                    1,
                    "Inspection of children's services",
                    &[("workforce", Neutral)],
                ),
                pf(
                    2,
                    "Thresholds are applied well.",
                    &[("thresholds", Strength)],
                ),
            ],
        );
        let e = evaluate(&gold, &[pred], &codebook(), &[]);
        assert_eq!((e.micro.tp, e.micro.fp, e.micro.fn_), (1, 1, 0));
        assert_eq!(e.errors[0].gold_index, None);
        assert_eq!(e.errors[0].predicted_ids, vec![1]);
        assert_eq!(e.alignment.predicted_paired, 1);
    }

    #[test]
    fn macro_excludes_themes_with_neither_gold_nor_predictions() {
        let source = "Thresholds are applied well. Caseloads are high.";
        let gold = GoldSet {
            findings: vec![
                gf(
                    "d.txt",
                    "Thresholds are applied well.",
                    &[("thresholds", Strength)],
                ),
                gf("d.txt", "Caseloads are high.", &[("caseloads", Concern)]),
            ],
            metadata: vec![],
        };
        let pred = doc(
            "d.txt",
            source,
            vec![
                pf(
                    1,
                    "Thresholds are applied well.",
                    &[("thresholds", Strength)],
                ),
                pf(2, "Caseloads are high.", &[]),
            ],
        );
        let e = evaluate(
            &gold,
            &[pred],
            &codebook(),
            &[s("thresholds"), s("workforce")],
        );
        // thresholds f1 = 1, caseloads f1 = 0; strategy_meetings and workforce have
        // neither gold nor predictions and are left out: macro = (1 + 0) / 2.
        assert_eq!(e.macro_themes, 2);
        assert!(close(e.macro_f1(), 0.5));
        // Required: thresholds counted, workforce left out.
        assert_eq!(e.required_themes_counted, 1);
        assert!(close(e.required_macro_f1(), 1.0));
        // micro: tp 1, fp 0, fn 1 -> p 1, r 0.5, f1 0.6667
        assert!(close(e.micro_f1(), 0.6667));
        assert_eq!(e.themes.len(), 4);
        assert_eq!(e.themes[0].theme, "thresholds");
    }

    #[test]
    fn missing_document_and_metadata() {
        let mut fields = BTreeMap::new();
        fields.insert(s("authority"), s("Wirral"));
        fields.insert(s("judgements"), s("a=good;b=inadequate"));
        fields.insert(s("published"), s(""));
        let gold = GoldSet {
            findings: vec![
                gf("a.txt", "Caseloads are high.", &[("caseloads", Concern)]),
                gf("b.txt", "Caseloads are low.", &[("caseloads", Strength)]),
            ],
            metadata: vec![
                GoldMetadata {
                    document: s("a.txt"),
                    fields: fields.clone(),
                },
                GoldMetadata {
                    document: s("b.txt"),
                    fields,
                },
            ],
        };
        let mut pred = doc(
            "sub/a.txt",
            "Caseloads are high.",
            vec![pf(1, "Caseloads are high.", &[("caseloads", Concern)])],
        );
        pred.metadata.insert(s("authority"), s("wirral "));
        pred.metadata
            .insert(s("judgements"), s("b=inadequate; a=good"));
        pred.metadata.insert(s("published"), s(""));
        let e = evaluate(&gold, &[pred], &codebook(), &[]);
        assert_eq!(e.alignment.documents_missing, vec![s("b.txt")]);
        assert_eq!(e.alignment.unplaced.len(), 1);
        assert_eq!(
            e.alignment.unplaced[0].reason,
            UnplacedReason::DocumentMissing
        );
        assert_eq!((e.micro.tp, e.micro.fp, e.micro.fn_), (1, 0, 1));
        // a.txt matches on all three fields; b.txt matches only the empty `published`.
        assert_eq!(e.metadata_mismatches.len(), 2);
        assert!(e.metadata_mismatches.iter().all(|m| m.document == "b.txt"));
        assert!(close(e.metadata_accuracy(), 4.0 / 6.0));
        assert_eq!(e.metadata_fields[0].field, "authority");
    }

    #[test]
    fn empty_inputs_do_not_panic() {
        let e = evaluate(&GoldSet::default(), &[], &[], &[]);
        assert_eq!(e.micro_f1(), 0.0);
        assert_eq!(e.stance_kappa(), 0.0);
        assert!(!e.to_table().is_empty());
        let gold = GoldSet {
            findings: vec![gf("d.txt", "…", &[("thresholds", Strength)])],
            metadata: vec![],
        };
        let e = evaluate(
            &gold,
            &[doc("d.txt", "", vec![pf(1, "", &[])])],
            &codebook(),
            &[],
        );
        assert_eq!(e.alignment.unplaced.len(), 1);
        assert_eq!(e.alignment.predicted_not_located, 1);
    }

    #[test]
    fn csvs_are_deterministic_with_four_decimals() {
        let gold = GoldSet {
            findings: vec![
                gf(
                    "d.txt",
                    "Thresholds are applied well.",
                    &[("thresholds", Strength)],
                ),
                gf("d.txt", "Caseloads are high.", &[("caseloads", Concern)]),
            ],
            metadata: vec![],
        };
        let pred = doc(
            "d.txt",
            "Thresholds are applied well. Caseloads are high.",
            vec![pf(
                1,
                "Thresholds are applied well. Caseloads are high.",
                &[("thresholds", Strength)],
            )],
        );
        let e = evaluate(&gold, &[pred], &codebook(), &[]);
        let a = e.write_csvs();
        assert_eq!(a, e.write_csvs());
        let names: Vec<&str> = a.iter().map(|(n, _)| *n).collect();
        for want in [
            "themes.csv",
            "stance_confusion.csv",
            "metadata_mismatches.csv",
            "errors.csv",
            "unplaced.csv",
            "summary.csv",
        ] {
            assert!(names.contains(&want), "{want}");
        }
        let themes = String::from_utf8(a[0].1.clone()).unwrap();
        assert!(themes.starts_with("theme,precision,recall,f1,support,tp,fp,fn\n"));
        // The merged prediction is scored against both gold sentences: thresholds is a
        // true positive on the first and a false positive on the second.
        assert!(
            themes.contains("thresholds,0.5000,1.0000,0.6667,1,1,1,0\n"),
            "{themes}"
        );
        let errors = String::from_utf8(
            a.iter()
                .find(|(n, _)| *n == "errors.csv")
                .unwrap()
                .1
                .clone(),
        )
        .unwrap();
        assert!(
            errors.contains(
                "fn,d.txt,2,1,caseloads,caseloads=concern,thresholds=strength,Caseloads are high."
            ),
            "{errors}"
        );
        let summary = String::from_utf8(
            a.iter()
                .find(|(n, _)| *n == "summary.csv")
                .unwrap()
                .1
                .clone(),
        )
        .unwrap();
        // micro: tp 1, fp 1, fn 1 -> p 0.5, r 0.5, f1 0.5
        assert!(summary.contains("micro_f1,0.5000\n"), "{summary}");
    }
}
