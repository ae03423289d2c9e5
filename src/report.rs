//! Write a run's outputs: the contract's CSV tables, optional Parquet, PNG charts, the
//! Markdown summaries and `run.json`. Every file is written atomically.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use polars::prelude::*;
use rayon::prelude::*;
use serde_json::json;

use crate::aggregate::{self, cols, DocFacts, Tables, TagFact};
use crate::charts;
use crate::config::Settings;
use crate::model::{iso_date, Stance, Status};
use crate::output::{frame_csv, frame_parquet, write_atomic, Table};
use crate::pipeline::{DocResult, Resources, RunResult, RunStats, Stage};
use crate::summary;

/// Columns stored as integers in Parquet.
const NUMERIC_COLUMNS: &[&str] = &["finding_id", "year", "words", "findings"];

pub const DOCUMENTS_HEADER: [&str; 15] = [
    "document",
    "status",
    "message",
    "authority",
    "la_code",
    "region",
    "visit_type",
    "visit_start",
    "visit_end",
    "published",
    "year",
    "judgements",
    "words",
    "findings",
    "sha256",
];

/// What the summaries keep of one report: its metadata and a few quotable findings.
#[derive(Debug, Clone)]
pub struct DocSummary {
    pub rel: String,
    pub metadata: crate::model::Metadata,
    /// Up to [`QUOTES_PER_THEME`] findings per theme and stance (concern, strength).
    pub quotes: Vec<Quote>,
}

/// A finding kept for quoting.
#[derive(Debug, Clone)]
pub struct Quote {
    pub theme: usize,
    pub stance: Stance,
    pub finding_id: u32,
    pub text: String,
}

/// Quotes kept per document, theme and stance.
pub const QUOTES_PER_THEME: usize = 3;

/// The facts the tables and summaries are built from (ok documents only): small, so that
/// memory grows with the outputs, not with the corpus.
#[derive(Default)]
pub struct Facts {
    pub docs: Vec<DocFacts>,
    /// One entry per `docs` entry.
    pub summaries: Vec<DocSummary>,
    pub tags: Vec<TagFact>,
}

impl Facts {
    /// Record one document (only `ok` documents count).
    pub fn add(&mut self, d: &DocResult, theme_index: &BTreeMap<String, usize>) {
        if d.status != Status::Ok {
            return;
        }
        let m = &d.metadata;
        let di = self.docs.len();
        self.docs.push(DocFacts {
            document: d.rel.clone(),
            authority: m.authority_name().to_string(),
            la_code: m.la_code().to_string(),
            region: m.region().to_string(),
            year: m.year().unwrap_or(0),
            visit_type: m.visit_type_str().to_string(),
            words: d.words as u64,
        });
        let mut quotes: Vec<Quote> = Vec::new();
        for f in &d.findings {
            for t in &f.tags {
                let theme = theme_index[t.theme.as_str()];
                self.tags.push(TagFact {
                    doc: di,
                    theme,
                    stance: t.stance,
                });
                let kept = quotes
                    .iter()
                    .filter(|q| q.theme == theme && q.stance == t.stance)
                    .count();
                if matches!(t.stance, Stance::Concern | Stance::Strength) && kept < QUOTES_PER_THEME
                {
                    quotes.push(Quote {
                        theme,
                        stance: t.stance,
                        finding_id: f.finding.id,
                        text: f.finding.text.clone(),
                    });
                }
            }
        }
        self.summaries.push(DocSummary {
            rel: d.rel.clone(),
            metadata: d.metadata.clone(),
            quotes,
        });
    }
}

/// Theme id -> index in the codebook.
pub fn theme_index(res: &Resources) -> BTreeMap<String, usize> {
    res.tagger
        .book
        .themes
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.clone(), i))
        .collect()
}

/// The facts of a run held in memory.
pub fn facts(run: &RunResult, res: &Resources) -> Facts {
    let index = theme_index(res);
    let mut out = Facts::default();
    for d in &run.docs {
        out.add(d, &index);
    }
    out
}

fn document_row(d: &DocResult) -> Vec<String> {
    let m = &d.metadata;
    let counted = d.status == Status::Ok;
    vec![
        d.rel.clone(),
        d.status.as_str().to_string(),
        d.message.clone(),
        m.authority_name().to_string(),
        m.la_code().to_string(),
        m.region().to_string(),
        m.visit_type_str().to_string(),
        iso_date(m.visit_start),
        iso_date(m.visit_end),
        iso_date(m.published),
        m.year_text(),
        m.judgements_string(),
        if counted || d.status == Status::Duplicate {
            d.words.to_string()
        } else {
            String::new()
        },
        if counted {
            d.findings.len().to_string()
        } else {
            String::new()
        },
        d.sha256.clone(),
    ]
}

const FINDINGS_HEADER: [&str; 5] = ["document", "finding_id", "section", "text", "themes"];
const TAGS_HEADER: [&str; 11] = [
    "document",
    "finding_id",
    "authority",
    "la_code",
    "year",
    "visit_type",
    "section",
    "theme",
    "stance",
    "matched",
    "cues",
];
const KWIC_HEADER: [&str; 6] = ["document", "finding_id", "theme", "left", "match", "right"];

/// Write the finding-level rows of one document (findings, tags, kwic) straight from its
/// results, borrowing every field.
fn write_finding_rows(d: &DocResult, tables: &mut [StreamCsv]) -> anyhow::Result<()> {
    let [findings, tags, kwic] = tables else {
        unreachable!("three finding-level tables")
    };
    if d.status != Status::Ok {
        return Ok(());
    }
    let authority = d.metadata.authority_name();
    let code = d.metadata.la_code();
    let year = d.metadata.year_text();
    let vt = d.metadata.visit_type_str();
    let mut id_buf = itoa::Buffer::new();
    // Joined fields are built in these, reused from row to row.
    let (mut themes, mut matched, mut cues) = (String::new(), String::new(), String::new());
    for f in &d.findings {
        let id = id_buf.format(f.finding.id);
        let section = f.finding.section.as_str();
        f.write_themes(&mut themes);
        findings.row(&[&d.rel, id, section, &f.finding.text, &themes])?;
        for t in &f.tags {
            join_into(&mut matched, &t.matched, " | ");
            join_into(&mut cues, &t.cues, " | ");
            tags.row(&[
                &d.rel,
                id,
                authority,
                code,
                &year,
                vt,
                section,
                &t.theme,
                t.stance.as_str(),
                &matched,
                &cues,
            ])?;
        }
    }
    for k in &d.kwic {
        let (id, theme, left, matched, right) = k.parts(d);
        kwic.row(&[&d.rel, id_buf.format(id), theme, left, matched, right])?;
    }
    Ok(())
}

/// `parts` joined by `sep` into `out` (cleared first).
fn join_into(out: &mut String, parts: &[String], sep: &str) {
    out.clear();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(p);
    }
}

/// A CSV table streamed to a temporary file in the output folder, renamed into place at the end.
struct StreamCsv {
    name: &'static str,
    writer: csv::Writer<tempfile::NamedTempFile>,
    /// Rows also kept in memory for Parquet, when asked for.
    kept: Option<Table>,
}

impl StreamCsv {
    fn new(
        dir: &Path,
        name: &'static str,
        header: &[&str],
        keep: bool,
    ) -> anyhow::Result<StreamCsv> {
        let tmp = crate::output::temp_file_in(dir)?;
        let mut writer = crate::output::csv_file_writer(tmp);
        writer.write_record(header)?;
        Ok(StreamCsv {
            name,
            writer,
            kept: keep.then(|| Table::new(header)),
        })
    }

    fn row(&mut self, fields: &[&str]) -> anyhow::Result<()> {
        self.writer.write_record(fields)?;
        if let Some(t) = &mut self.kept {
            t.rows.push(fields.iter().map(|f| f.to_string()).collect());
        }
        Ok(())
    }

    /// Flush and rename into place.
    fn finish(self, dir: &Path) -> anyhow::Result<Option<Table>> {
        let path = dir.join(self.name);
        let tmp = self
            .writer
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error()))?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| {
            anyhow::anyhow!("cannot move {} into place: {}", path.display(), e.error)
        })?;
        Ok(self.kept)
    }
}

/// Receives documents in input order as the pipeline finishes them, streams the row-level
/// tables to disk, and keeps only the facts the aggregates, charts and summaries need.
pub struct Sink<'a> {
    settings: &'a Settings,
    res: &'a Resources,
    theme_index: BTreeMap<String, usize>,
    tables: [StreamCsv; 4],
    pub facts: Facts,
}

impl<'a> Sink<'a> {
    /// Open the output folder and the streamed tables (nothing is renamed into place yet).
    pub fn new(settings: &'a Settings, res: &'a Resources) -> anyhow::Result<Sink<'a>> {
        let dir = &settings.output;
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create output folder {}: {e}; choose a writable --output DIR",
                dir.display()
            )
        })?;
        crate::output::remove_stale_temp_files(dir);
        let keep = settings.parquet;
        Ok(Sink {
            settings,
            res,
            theme_index: theme_index(res),
            tables: [
                StreamCsv::new(dir, "documents.csv", &DOCUMENTS_HEADER, keep)?,
                StreamCsv::new(dir, "findings.csv", &FINDINGS_HEADER, keep)?,
                StreamCsv::new(dir, "tags.csv", &TAGS_HEADER, keep)?,
                StreamCsv::new(dir, "kwic.csv", &KWIC_HEADER, keep)?,
            ],
            facts: Facts::default(),
        })
    }

    /// Take one document's results.
    pub fn add(&mut self, d: &DocResult) -> anyhow::Result<()> {
        let doc = document_row(d);
        self.tables[0].row(&doc.iter().map(String::as_str).collect::<Vec<_>>())?;
        write_finding_rows(d, &mut self.tables[1..])?;
        self.facts.add(d, &self.theme_index);
        Ok(())
    }

    /// Build the aggregates, charts and summaries, and put every file in place.
    /// Returns the paths written, relative to the output folder.
    pub fn finish(self, stats: &mut RunStats) -> anyhow::Result<Vec<String>> {
        let started = Instant::now();
        let (settings, res, out_dir) = (self.settings, self.res, &self.settings.output);
        // The streamed tables are flushed, synced and renamed into place on a thread of their
        // own (disk-bound) while the aggregates, charts and summaries are built (CPU-bound).
        let streamed = self.tables;
        let facts = self.facts;
        let ids = res.tagger.book.ids();
        // Charts render, and the files are written, on as many threads as the run was given.
        let pool = crate::pipeline::thread_pool(settings.threads)?;
        let t = Instant::now();
        let (tables, rendered, finished) = std::thread::scope(|scope| {
            let finishing = scope.spawn(|| {
                let mut written = Vec::new();
                let mut kept = Vec::new();
                for table in streamed {
                    let name = table.name;
                    if let Some(rows) = table.finish(out_dir)? {
                        kept.push((name.trim_end_matches(".csv"), rows));
                    }
                    written.push(name.to_string());
                }
                anyhow::Ok((written, kept))
            });
            let tables = aggregate::build(&facts.docs, &facts.tags, &ids);
            stats.times.add(Stage::Aggregate, t.elapsed());
            let t = Instant::now();
            let rendered = tables
                .as_ref()
                .map_err(|e| anyhow::anyhow!("{e}"))
                .and_then(|tables| render_outputs(settings, res, &pool, &facts, tables, stats));
            let finished = finishing
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (tables, rendered.map(|r| (r, t)), finished)
        });
        let tables = tables?;
        let ((charts_and_summaries, t), (mut written, kept)) = (rendered?, finished?);
        let frames = [
            ("themes_by_authority_year", &tables.by_authority_year),
            ("themes_by_year", &tables.by_year),
            ("themes_by_document", &tables.by_document),
        ];
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for (name, df) in &frames {
            files.push((format!("{name}.csv"), frame_csv(df)?));
        }
        if settings.parquet {
            for (name, t) in &kept {
                files.push((
                    format!("parquet/{name}.parquet"),
                    frame_parquet(&t.frame(NUMERIC_COLUMNS)?)?,
                ));
            }
            for (name, df) in &frames {
                files.push((format!("parquet/{name}.parquet"), frame_parquet(df)?));
            }
        }
        files.extend(charts_and_summaries);
        // Each file is synced before it is renamed into place: many small files go faster
        // side by side. The list of outputs keeps the order above.
        pool.install(|| {
            files
                .par_iter()
                .map(|(name, bytes)| write_atomic(&out_dir.join(name), bytes))
                .collect::<anyhow::Result<Vec<()>>>()
        })?;
        written.extend(files.into_iter().map(|(name, _)| name));
        stats.times.add(Stage::Write, t.elapsed());
        // The run's wall time takes in the aggregates, charts and writing done here.
        stats.wall += started.elapsed();
        let run_json = run_json(settings, res, stats, &written);
        write_atomic(&out_dir.join("run.json"), run_json.as_bytes())?;
        written.push("run.json".into());
        Ok(written)
    }
}

/// The charts (when the pipeline asks for them, rendered in parallel on `pool`) and the
/// Markdown summaries, as (relative path, bytes).
fn render_outputs(
    settings: &Settings,
    res: &Resources,
    pool: &rayon::ThreadPool,
    facts: &Facts,
    tables: &Tables,
    stats: &RunStats,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    if settings.charts {
        files.extend(pool.install(|| charts(tables, facts, res))?);
    }
    let evaluation = settings
        .evaluation
        .as_deref()
        .and_then(|p| summary::read_evaluation(p).ok());
    files.extend(summary::render(
        stats,
        res,
        facts,
        tables,
        evaluation.as_ref(),
    )?);
    Ok(files)
}

/// Values of an i64/i32/f64 column as f64 (nulls as None).
fn f64s(df: &DataFrame, name: &str) -> anyhow::Result<Vec<Option<f64>>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().collect())
}

fn strs(df: &DataFrame, name: &str) -> anyhow::Result<Vec<String>> {
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|s| s.unwrap_or("").to_string())
        .collect())
}

fn years(df: &DataFrame) -> anyhow::Result<Vec<Option<i32>>> {
    Ok(df.column(cols::YEAR)?.i32()?.iter().collect())
}

/// Per authority: reports, and per theme (concern findings, findings).
type AuthorityCells = (usize, Vec<(f64, f64)>);

/// Render the charts; returns (relative path, PNG bytes).
fn charts(
    tables: &Tables,
    facts: &Facts,
    res: &Resources,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let by_year = &tables.by_year;
    let ys = years(by_year)?;
    let themes = strs(by_year, cols::THEME)?;
    let share = f64s(by_year, cols::SHARE_OF_REPORTS)?;
    let reports = f64s(by_year, cols::REPORTS)?;
    let strength = f64s(by_year, cols::STRENGTH)?;
    let concern = f64s(by_year, cols::CONCERN)?;
    let mut per_year: BTreeMap<i32, usize> = BTreeMap::new();
    for (y, r) in ys.iter().zip(&reports) {
        if let (Some(y), Some(r)) = (y, r) {
            per_year.insert(*y, *r as usize);
        }
    }
    let per_year: Vec<(i32, usize)> = per_year.into_iter().collect();
    let book = &res.tagger.book;
    let series_for = |theme: &str, values: &[Option<f64>], per_report: bool| -> charts::Series {
        let label = book
            .themes
            .iter()
            .find(|t| t.id == theme)
            .map(|t| t.label.clone())
            .unwrap_or_default();
        let points = (0..ys.len())
            .filter(|&i| themes[i] == theme)
            .filter_map(|i| {
                let y = ys[i]?;
                let v = values[i]?;
                let n = reports[i].unwrap_or(0.0);
                Some((
                    y,
                    if per_report {
                        if n > 0.0 {
                            v / n
                        } else {
                            return None;
                        }
                    } else {
                        v
                    },
                ))
            })
            .collect();
        charts::Series { label, points }
    };
    let required: Vec<charts::Series> = book
        .themes
        .iter()
        .filter(|t| t.required)
        .map(|t| series_for(&t.id, &share, false))
        .collect();
    out.push((
        "charts/trend_required.png".to_string(),
        charts::line_chart(
            "Share of reports raising each required theme as a concern",
            "Share of reports",
            true,
            &per_year,
            &required,
        )?,
    ));
    let trend_jobs: Vec<(&crate::codebook::Theme, [charts::Series; 2])> = book
        .themes
        .iter()
        .map(|t| {
            let mut s = series_for(&t.id, &strength, true);
            s.label = "Strength findings per report".into();
            let mut c = series_for(&t.id, &concern, true);
            c.label = "Concern findings per report".into();
            (t, [s, c])
        })
        .collect();
    let trends: anyhow::Result<Vec<(String, Vec<u8>)>> = trend_jobs
        .par_iter()
        .map(|(t, series)| {
            Ok((
                format!("charts/trend/{}.png", t.id),
                charts::line_chart(
                    &format!("{}: findings per report by year", t.label),
                    "Findings per report",
                    false,
                    &per_year,
                    series,
                )?,
            ))
        })
        .collect();
    out.extend(trends?);
    // Stance by theme, over the whole corpus.
    let mut stacks: Vec<(String, Vec<f64>)> = Stance::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), vec![0.0; book.themes.len()]))
        .collect();
    for t in &facts.tags {
        stacks[t.stance as usize].1[t.theme] += 1.0;
    }
    let labels: Vec<String> = book.themes.iter().map(|t| t.label.clone()).collect();
    out.push((
        "charts/stance_by_theme.png".to_string(),
        charts::stacked_bars("Findings by theme and stance", "Findings", &labels, &stacks)?,
    ));
    // Authority x theme concern share.
    let mut per_auth: BTreeMap<&str, AuthorityCells> = BTreeMap::new();
    for d in &facts.docs {
        if d.authority.is_empty() {
            continue;
        }
        per_auth
            .entry(d.authority.as_str())
            .or_insert((0, vec![(0.0, 0.0); book.themes.len()]))
            .0 += 1;
    }
    for t in &facts.tags {
        let a = facts.docs[t.doc].authority.as_str();
        if let Some(e) = per_auth.get_mut(a) {
            let cell = &mut e.1[t.theme];
            cell.1 += 1.0;
            if t.stance == Stance::Concern {
                cell.0 += 1.0;
            }
        }
    }
    let mut ranked: Vec<(&str, usize)> = per_auth.iter().map(|(a, (n, _))| (*a, *n)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let total = ranked.len();
    ranked.truncate(40);
    let rows: Vec<String> = ranked.iter().map(|(a, n)| format!("{a} ({n})")).collect();
    let values: Vec<Vec<Option<f64>>> = ranked
        .iter()
        .map(|(a, _)| {
            per_auth[a]
                .1
                .iter()
                .map(|(c, f)| if *f > 0.0 { Some(c / f) } else { None })
                .collect()
        })
        .collect();
    let note = if total > ranked.len() {
        format!(
            "{} of {total} authorities shown (most reports first); {} left out",
            ranked.len(),
            total - ranked.len()
        )
    } else {
        format!("all {total} authorities shown; (n) = reports; blank = theme not raised")
    };
    out.extend(authority_charts(facts, res)?);
    out.push((
        "charts/heatmap_concern.png".to_string(),
        charts::heatmap(
            "Concern share of findings by authority and theme",
            &rows,
            &labels,
            &values,
            &note,
        )?,
    ));
    Ok(out)
}

/// Themes shown on an authority's chart: the most often raised as concerns.
const AUTHORITY_CHART_THEMES: usize = 6;

/// `charts/authority/<authority>.png` for each authority with two or more reports: concern
/// findings per report for its most-raised themes, over the years of its visits.
fn authority_charts(facts: &Facts, res: &Resources) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let book = &res.tagger.book;
    let mut by_auth: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, d) in facts.docs.iter().enumerate() {
        if !d.authority.is_empty() && d.year > 0 {
            by_auth.entry(d.authority.as_str()).or_default().push(i);
        }
    }
    let charted: Vec<(&str, Vec<usize>)> =
        by_auth.into_iter().filter(|(_, d)| d.len() >= 2).collect();
    // Which chart each document belongs to, then (theme -> year -> concern findings) per
    // chart, in one pass over the tags.
    let mut chart_of = vec![usize::MAX; facts.docs.len()];
    for (j, (_, docs)) in charted.iter().enumerate() {
        for &d in docs {
            chart_of[d] = j;
        }
    }
    let mut concerns: Vec<BTreeMap<usize, BTreeMap<i32, f64>>> =
        vec![BTreeMap::new(); charted.len()];
    for t in facts.tags.iter().filter(|t| t.stance == Stance::Concern) {
        if let Some(c) = concerns.get_mut(chart_of[t.doc]) {
            *c.entry(t.theme)
                .or_default()
                .entry(facts.docs[t.doc].year)
                .or_default() += 1.0;
        }
    }
    let mut jobs = Vec::new();
    for ((name, docs), concern) in charted.into_iter().zip(concerns) {
        // (year -> reports)
        let mut reports: BTreeMap<i32, usize> = BTreeMap::new();
        for &d in &docs {
            *reports.entry(facts.docs[d].year).or_default() += 1;
        }
        let mut ranked: Vec<(usize, f64)> = concern
            .iter()
            .map(|(t, by)| (*t, by.values().sum()))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(AUTHORITY_CHART_THEMES);
        let series: Vec<charts::Series> = ranked
            .iter()
            .map(|(t, _)| charts::Series {
                label: book.themes[*t].label.clone(),
                points: reports
                    .iter()
                    .map(|(y, n)| (*y, concern[t].get(y).copied().unwrap_or(0.0) / *n as f64))
                    .collect(),
            })
            .collect();
        let per_year: Vec<(i32, usize)> = reports.into_iter().collect();
        jobs.push((name, per_year, series));
    }
    // Each chart is independent: render them in parallel, gathered in order.
    jobs.par_iter()
        .map(|(name, per_year, series)| {
            Ok((
                format!("charts/authority/{}.png", crate::summary::slug(name)),
                charts::line_chart(
                    &format!("{name}: concern findings per report, most-raised themes"),
                    "Concern findings per report",
                    false,
                    per_year,
                    series,
                )?,
            ))
        })
        .collect()
}

fn run_json(settings: &Settings, res: &Resources, stats: &RunStats, written: &[String]) -> String {
    let mut counts = serde_json::Map::new();
    for s in [
        Status::Ok,
        Status::Duplicate,
        Status::Skipped,
        Status::Failed,
    ] {
        counts.insert(s.as_str().into(), json!(stats.count(s)));
    }
    let mut stages = serde_json::Map::new();
    for s in Stage::ALL {
        stages.insert(
            s.as_str().into(),
            json!((stats.times.get(s).as_secs_f64() * 1e4).round() / 1e4),
        );
    }
    let v = json!({
        "tool": "ofsted-themes",
        "version": env!("CARGO_PKG_VERSION"),
        "pipeline": settings.name,
        "pipeline_file": settings.pipeline_file.as_ref().map(|p| p.display().to_string()),
        "input": settings.input.display().to_string(),
        "codebook": res.codebook_source,
        "codebook_sha256": res.codebook_hash,
        "themes": res.tagger.book.themes.len(),
        "files": stats.files,
        "input_bytes": stats.input_bytes,
        "status": counts,
        "findings": stats.findings,
        "tags": stats.tags,
        "threads": stats.threads,
        "seconds": {
            "wall": (stats.wall.as_secs_f64() * 1e4).round() / 1e4,
            "stages": stages,
        },
        "outputs": written,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}
