//! The pipeline: ingest -> normalise -> metadata -> segment -> analyse + tag -> stance, per
//! document, in parallel; then duplicates are marked in input order.
//!
//! Each input file yields exactly one [`DocResult`], whatever happens to it. Documents are
//! processed on a rayon pool; results are handed on in input order, so the output does not
//! depend on the number of threads.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::codebook::Codebook;
use crate::ingest::{self, InputFile, Loaded};
use crate::model::{Metadata, Status, TaggedFinding, ThemeTag};
use crate::reference::AuthorityTable;
use crate::stance::StanceReader;
use crate::tag::{Tagger, Workspace};
use crate::{metadata, normalise, segment};

/// The bundled default codebook, stance lexicon and authority table (used when no file is named).
pub const DEFAULT_CODEBOOK: &str = include_str!("../data/codebook/default.toml");
pub const DEFAULT_LEXICON: &str = include_str!("../data/lexicon/stance.toml");
pub const DEFAULT_AUTHORITIES: &str = include_str!("../data/reference/authorities.csv");

/// The stages whose time is recorded in `run.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Ingest,
    Normalise,
    Metadata,
    Segment,
    Tag,
    Stance,
    Aggregate,
    Write,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Ingest,
        Stage::Normalise,
        Stage::Metadata,
        Stage::Segment,
        Stage::Tag,
        Stage::Stance,
        Stage::Aggregate,
        Stage::Write,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Normalise => "normalise",
            Stage::Metadata => "metadata",
            Stage::Segment => "segment",
            Stage::Tag => "analyse_and_tag",
            Stage::Stance => "stance",
            Stage::Aggregate => "aggregate",
            Stage::Write => "write",
        }
    }
}

/// Time spent per stage (summed over worker threads for the per-document stages).
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimes(pub [Duration; 8]);

impl StageTimes {
    pub fn add(&mut self, stage: Stage, d: Duration) {
        self.0[stage as usize] += d;
    }

    pub fn merge(&mut self, other: &StageTimes) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    pub fn get(&self, stage: Stage) -> Duration {
        self.0[stage as usize]
    }
}

/// One keyword-in-context line: a theme match with a few words either side, as byte ranges
/// of its finding's text (no copies: a large run has millions of these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kwic {
    /// Index of the finding in [`DocResult::findings`].
    pub finding: usize,
    /// Index of the theme's tag in that finding's tags.
    pub tag: usize,
    pub left: std::ops::Range<usize>,
    pub matched: std::ops::Range<usize>,
    pub right: std::ops::Range<usize>,
}

impl Kwic {
    /// Finding id, theme id, left context, match and right context, as written.
    pub fn parts<'a>(&self, d: &'a DocResult) -> (u32, &'a str, &'a str, &'a str, &'a str) {
        let f = &d.findings[self.finding];
        let text = f.finding.text.as_str();
        (
            f.finding.id,
            f.tags[self.tag].theme.as_str(),
            &text[self.left.clone()],
            &text[self.matched.clone()],
            &text[self.right.clone()],
        )
    }
}

/// Everything the pipeline learnt about one input file.
#[derive(Debug, Clone)]
pub struct DocResult {
    pub rel: String,
    pub path: PathBuf,
    pub status: Status,
    pub message: String,
    /// SHA-256 of the file's bytes (empty when it could not be read).
    pub sha256: String,
    pub metadata: Metadata,
    pub words: usize,
    pub findings: Vec<TaggedFinding>,
    pub kwic: Vec<Kwic>,
    pub times: StageTimes,
    /// Size of the file in bytes (0 when it could not be read).
    pub bytes: u64,
    /// Hash of the normalised text, for duplicate detection.
    dedup: Option<[u8; 32]>,
    /// The decoded text, kept only when asked (for `evaluate`).
    pub source: Option<String>,
}

impl DocResult {
    /// A result for `file` with `status` and nothing else learnt yet.
    fn empty(file: &InputFile, status: Status) -> DocResult {
        DocResult {
            rel: file.rel.clone(),
            path: file.path.clone(),
            status,
            message: String::new(),
            sha256: String::new(),
            metadata: Metadata::default(),
            words: 0,
            findings: Vec::new(),
            kwic: Vec::new(),
            times: StageTimes::default(),
            bytes: 0,
            dedup: None,
            source: None,
        }
    }
}

/// The loaded codebook, lexicon and reference table.
pub struct Resources {
    pub tagger: Tagger,
    pub stance: StanceReader,
    pub authorities: AuthorityTable,
    pub sections: segment::SegmentRules,
    /// SHA-256 of the codebook text.
    pub codebook_hash: String,
    pub codebook_source: String,
}

impl Resources {
    /// Load from the named files, or the bundled defaults where none is named.
    pub fn load(
        codebook: Option<&Path>,
        lexicon: Option<&Path>,
        authorities: Option<&Path>,
    ) -> anyhow::Result<Resources> {
        Self::load_with_sections(codebook, lexicon, authorities, None)
    }

    /// As [`Resources::load`], with section rules from a file (bundled when `None`).
    pub fn load_with_sections(
        codebook: Option<&Path>,
        lexicon: Option<&Path>,
        authorities: Option<&Path>,
        sections: Option<&Path>,
    ) -> anyhow::Result<Resources> {
        let sections = match sections {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read section rules {}: {e}; check the pipeline's `sections` key",
                        p.display()
                    )
                })?;
                segment::SegmentRules::parse(&text, &p.display().to_string())?
            }
            None => segment::SegmentRules::bundled().clone(),
        };
        let (book_text, book_name) = match codebook {
            Some(p) => (
                std::fs::read_to_string(p).map_err(|e| {
                    anyhow::anyhow!("cannot read codebook {}: {e}; check the path given with --codebook or `codebook =`", p.display())
                })?,
                p.display().to_string(),
            ),
            None => (DEFAULT_CODEBOOK.to_string(), "data/codebook/default.toml (bundled)".to_string()),
        };
        let book = Codebook::parse(&book_text, &book_name)?;
        let stance = match lexicon {
            Some(p) => StanceReader::load(p)?,
            None => StanceReader::parse(DEFAULT_LEXICON, "data/lexicon/stance.toml (bundled)")?,
        };
        let authorities = match authorities {
            Some(p) => AuthorityTable::load(p)?,
            None => AuthorityTable::from_csv_str(DEFAULT_AUTHORITIES)?,
        };
        Ok(Resources {
            tagger: Tagger::new(book)?,
            stance,
            authorities,
            sections,
            codebook_hash: hex(&Sha256::digest(book_text.as_bytes())),
            codebook_source: book_name,
        })
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Words either side of a match in `kwic.csv`.
const KWIC_WORDS: usize = 6;

/// Run every per-document stage on one file.
pub fn process_file(
    file: &InputFile,
    res: &Resources,
    ws: &mut Workspace,
    keep_source: bool,
) -> DocResult {
    let mut times = StageTimes::default();
    let t0 = Instant::now();
    let (loaded, sha256) = ingest::load(file);
    times.add(Stage::Ingest, t0.elapsed());
    let mut doc = DocResult {
        sha256,
        times,
        ..DocResult::empty(file, Status::Ok)
    };
    let text = match loaded {
        Loaded::Text { text, bytes, .. } => {
            doc.bytes = bytes;
            text
        }
        Loaded::Skipped(why) => {
            doc.status = Status::Skipped;
            doc.message = why;
            return doc;
        }
        Loaded::Failed(why) => {
            doc.status = Status::Failed;
            doc.message = why;
            return doc;
        }
    };
    let t = Instant::now();
    let clean = normalise::normalise(&text);
    doc.times.add(Stage::Normalise, t.elapsed());
    let t = Instant::now();
    doc.metadata = metadata::extract(&text, &clean, &res.authorities);
    doc.times.add(Stage::Metadata, t.elapsed());
    let t = Instant::now();
    let findings = segment::segment_with(&clean, &res.sections);
    doc.times.add(Stage::Segment, t.elapsed());
    doc.words = clean.word_count();
    let mut hasher = Sha256::new();
    clean.joined_parts().for_each(|part| hasher.update(part));
    doc.dedup = Some(hasher.finalize().into());

    // A report names its kind of visit in its heading; failing that, it names an authority
    // and Ofsted. Press releases and notes that only mention an inspection are not reports.
    let looks_like_report = doc.metadata.visit_type.is_some()
        || (doc.metadata.authority.is_some() && text.contains("Ofsted"));
    if findings.is_empty() || !looks_like_report {
        doc.status = Status::Skipped;
        doc.message = if findings.is_empty() {
            "no report text: no sentences found".into()
        } else {
            "no report text: not an Ofsted report (no visit type, authority or Ofsted heading found)".into()
        };
        doc.dedup = None;
        return doc;
    }
    doc.message = doc
        .metadata
        .missing
        .iter()
        .map(|m| format!("{m} not found"))
        .collect::<Vec<_>>()
        .join("; ");

    let t = Instant::now();
    let tagged = res.tagger.tag_document(
        findings
            .iter()
            .map(|f| (f.id, f.source_start, f.text.as_str())),
        ws,
    );
    doc.times.add(Stage::Tag, t.elapsed());
    let t = Instant::now();
    let themes = &res.tagger.book.themes;
    for (finding, tg) in findings.into_iter().zip(tagged) {
        let stances = res.stance.read_tagged(&finding, &tg, ws);
        let mut tags = Vec::with_capacity(tg.hits.len());
        for (hit, st) in tg.hits.iter().zip(stances) {
            let theme = themes[hit.theme].id.clone();
            let mut matched = Tagger::matched_words(&finding.text, &tg.tokens, &hit.spans);
            if let Some(from) = hit.inherited_from {
                matched.push(format!("(continues finding {from})"));
            }
            for &(s, e) in &hit.spans {
                doc.kwic.push(kwic_row(
                    &finding.text,
                    &tg.tokens,
                    s,
                    e,
                    doc.findings.len(),
                    tags.len(),
                ));
            }
            tags.push(ThemeTag {
                theme,
                stance: st.stance,
                matched,
                cues: st.cues,
            });
        }
        doc.findings.push(TaggedFinding { finding, tags });
    }
    doc.times.add(Stage::Stance, t.elapsed());
    if keep_source {
        doc.source = Some(text);
    }
    doc
}

fn kwic_row(
    text: &str,
    tokens: &[crate::analyse::Token],
    s: usize,
    e: usize,
    finding: usize,
    tag: usize,
) -> Kwic {
    let left_start = s.saturating_sub(KWIC_WORDS);
    let right_end = (e + KWIC_WORDS).min(tokens.len());
    let left = if left_start < s {
        trimmed(text, tokens[left_start].start..tokens[s].start)
    } else {
        0..0
    };
    let right = if e < right_end {
        trimmed(text, tokens[e - 1].end..tokens[right_end - 1].end)
    } else {
        0..0
    };
    Kwic {
        finding,
        tag,
        left,
        matched: tokens[s].start..tokens[e - 1].end,
        right,
    }
}

/// `range` of `text` without the white space at either end.
fn trimmed(text: &str, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    crate::normalise::span_in(text, text[range].trim())
}

/// [`process_file`], with a panic in any stage turned into a `failed` result for that file,
/// so that one bad report never stops the run (nor leaves the other workers waiting for it).
fn process_file_guarded(
    file: &InputFile,
    res: &Resources,
    ws: &mut Workspace,
    keep_source: bool,
) -> DocResult {
    guarded(file, ws, |ws| process_file(file, res, ws, keep_source))
}

/// Run `stage` on `file`; a panic becomes a `failed` result naming its cause.
fn guarded(
    file: &InputFile,
    ws: &mut Workspace,
    stage: impl FnOnce(&mut Workspace) -> DocResult,
) -> DocResult {
    let run = std::panic::AssertUnwindSafe(|| stage(&mut *ws));
    match std::panic::catch_unwind(run) {
        Ok(d) => d,
        Err(payload) => {
            // The worker's caches may be half-updated: start them afresh.
            *ws = Workspace::default();
            let why = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".into());
            DocResult {
                message: format!(
                    "internal error while processing this file ({why}); please report it"
                ),
                ..DocResult::empty(file, Status::Failed)
            }
        }
    }
}

/// Counts and timings of a run.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    /// Files found under the input folder.
    pub files: usize,
    /// Files by status, in the order of [`Status`]: ok, duplicate, skipped, failed.
    pub counts: [usize; 4],
    /// Bytes read from the input files.
    pub input_bytes: u64,
    pub findings: usize,
    pub tags: usize,
    pub times: StageTimes,
    /// Wall time of the run: the documents, then (added by the report) the aggregates,
    /// charts and writing.
    pub wall: Duration,
    /// Worker threads used.
    pub threads: usize,
}

impl RunStats {
    pub fn count(&self, status: Status) -> usize {
        self.counts[status as usize]
    }
}

/// All results of a run held in memory (for tests and small corpora).
pub struct RunResult {
    pub docs: Vec<DocResult>,
    pub stats: RunStats,
}

impl RunResult {
    pub fn count(&self, status: Status) -> usize {
        self.stats.count(status)
    }
}

/// A pool of `threads` workers (0 = one per core).
pub fn thread_pool(threads: usize) -> anyhow::Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start worker threads: {e}"))
}

/// Documents that may be in flight ahead of the oldest one not yet handed to the sink.
const WINDOW: usize = 64;

/// Process `files` on a pool of `threads` workers (0 = one per core), handing each result to
/// `sink` in input order, with duplicates marked.
///
/// Workers take files one at a time and never wait for each other; the calling thread
/// reorders their results and runs `sink` while they carry on. A worker does not start a
/// file more than [`WINDOW`] places ahead of the oldest result not yet handed on, so memory
/// holds a bounded number of documents however large the corpus. The sink borrows each
/// result, which then goes back to the worker that made it to be freed on its own thread.
pub fn run_streaming(
    files: &[InputFile],
    threads: usize,
    res: &Resources,
    keep_source: bool,
    progress: &indicatif::ProgressBar,
    mut sink: impl FnMut(&DocResult) -> anyhow::Result<()>,
) -> anyhow::Result<RunStats> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{mpsc, Condvar, Mutex};

    let start = Instant::now();
    progress.set_length(files.len() as u64);
    let pool = thread_pool(threads)?;
    let n = pool.current_num_threads();
    let window = WINDOW.max(n * 8);
    let mut stats = RunStats {
        files: files.len(),
        threads: n,
        ..RunStats::default()
    };
    let mut seen: std::collections::HashMap<[u8; 32], String> = std::collections::HashMap::new();
    // The next file to start; how many results the sink has taken; set when the sink fails.
    let next = AtomicUsize::new(0);
    let handed = (Mutex::new(0usize), Condvar::new());
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, usize, DocResult)>();
    // Results the sink is done with go back to the worker that made them, to be freed there:
    // the allocator frees memory fastest on the thread that allocated it.
    let (back_tx, back_rx): (Vec<_>, Vec<_>) = (0..n).map(|_| mpsc::channel::<DocResult>()).unzip();
    let mut outcome: anyhow::Result<()> = Ok(());
    pool.in_place_scope(|scope| {
        for (worker, back) in back_rx.into_iter().enumerate() {
            let tx = tx.clone();
            let (next, handed, stop) = (&next, &handed, &stop);
            scope.spawn(move |_| {
                // One workspace per worker, kept for the run so each word is stemmed once.
                let mut ws = Workspace::default();
                loop {
                    back.try_iter().for_each(drop);
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= files.len() {
                        break;
                    }
                    {
                        let mut done = handed.0.lock().unwrap_or_else(|e| e.into_inner());
                        while i >= *done + window && !stop.load(Ordering::Relaxed) {
                            done = handed.1.wait(done).unwrap_or_else(|e| e.into_inner());
                        }
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let d = process_file_guarded(&files[i], res, &mut ws, keep_source);
                    progress.inc(1);
                    if tx.send((i, worker, d)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending: std::collections::BTreeMap<usize, (usize, DocResult)> = Default::default();
        let mut next_out = 0;
        for (i, worker, d) in rx.iter() {
            pending.insert(i, (worker, d));
            while let Some((worker, mut d)) = pending.remove(&next_out) {
                next_out += 1;
                if outcome.is_ok() {
                    mark_duplicate(&mut d, &mut seen);
                    stats.counts[d.status as usize] += 1;
                    stats.input_bytes += d.bytes;
                    stats.findings += d.findings.len();
                    stats.tags += d.findings.iter().map(|f| f.tags.len()).sum::<usize>();
                    stats.times.merge(&d.times);
                    if let Err(e) = sink(&d) {
                        outcome = Err(e);
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                // A worker that has finished no longer listens: the result is freed here.
                let _ = back_tx[worker].send(d);
                *handed.0.lock().unwrap_or_else(|e| e.into_inner()) = next_out;
                handed.1.notify_all();
            }
        }
    });
    outcome?;
    stats.wall = start.elapsed();
    Ok(stats)
}

/// A file with the same normalised text as an earlier one becomes a duplicate.
fn mark_duplicate(d: &mut DocResult, seen: &mut std::collections::HashMap<[u8; 32], String>) {
    let Some(key) = d.dedup else { return };
    if d.status != Status::Ok {
        return;
    }
    if let Some(first) = seen.get(&key) {
        d.status = Status::Duplicate;
        d.message = format!("same text as {first}; not counted again");
        d.findings.clear();
        d.kwic.clear();
    } else {
        seen.insert(key, d.rel.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_processing_fails_that_file_only() {
        let file = InputFile {
            rel: "bad.txt".into(),
            path: PathBuf::from("bad.txt"),
            walk_error: None,
        };
        let mut ws = Workspace::default();
        let d = guarded(&file, &mut ws, |_| panic!("index out of range"));
        assert_eq!(d.status, Status::Failed);
        assert_eq!(d.rel, "bad.txt");
        assert!(d.message.contains("index out of range"), "{}", d.message);
        assert!(d.findings.is_empty() && d.dedup.is_none());
    }
}
