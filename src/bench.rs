//! `ofsted-themes bench`: the whole pipeline on a scale corpus, beside ripgrep's raw scan.
//!
//! The scale corpus repeats a folder of real reports N times; each copy gets one extra line
//! ("Copy k") so that no copy is a duplicate of another and every stage does its full work.
//! The pipeline then runs as `run` does (ingest to charts and summary), and `rg -c -i -F` scans
//! the same folder for the codebook's plain terms: the floor any text tool has to pay. Each
//! side runs several times, in turns, and the fastest run of each is compared, since on a
//! shared machine one run's time varies. The figures are printed; nothing here asserts a time.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::Settings;
use crate::ingest;
use crate::pipeline::{self, Resources, RunStats, Stage};
use crate::report::Sink;

/// What to measure.
pub struct BenchOptions {
    pub corpus: PathBuf,
    pub times: usize,
    pub work: PathBuf,
    pub threads: usize,
    /// How many times to run each side; the fastest run of each is reported.
    pub runs: usize,
}

/// Peak resident memory of this process so far, in KiB (Linux), if known.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Copy every file under `corpus` into `dest/copy-k/` for k in 1..=times, appending a line
/// that makes each copy distinct. Returns (files, bytes).
fn build_corpus(corpus: &Path, times: usize, dest: &Path) -> anyhow::Result<(usize, u64)> {
    let files = ingest::discover(corpus)?;
    let mut count = 0;
    let mut bytes = 0;
    for k in 1..=times {
        for f in files.iter().filter(|f| f.walk_error.is_none()) {
            if ingest::extension(&f.path).as_deref() != Some("txt") {
                continue;
            }
            let mut data = std::fs::read(&f.path)?;
            data.extend_from_slice(format!("\nCopy {k}\n").as_bytes());
            let out = dest.join(format!("copy-{k:03}")).join(&f.rel);
            if let Some(parent) = out.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&out, &data)?;
            count += 1;
            bytes += data.len() as u64;
        }
    }
    Ok((count, bytes))
}

/// Plain phrases of the codebook (wildcards without their `*`), one per line.
fn codebook_terms(res: &Resources) -> String {
    let mut terms: Vec<String> = Vec::new();
    for t in &res.tagger.book.themes {
        let pats = t
            .terms
            .iter()
            .chain(t.near.iter().flat_map(|n| n.all.iter().chain(&n.any)));
        terms.extend(pats.map(|p| p.source.trim_end_matches('*').to_string()));
    }
    terms.sort();
    terms.dedup();
    terms.join("\n") + "\n"
}

/// Build the scale corpus, then run ripgrep and the pipeline on it `runs` times each, taking
/// turns, and print the figures: every run's wall time, and the fastest of each side.
pub fn run(opts: &BenchOptions, res: &Resources) -> anyhow::Result<()> {
    let corpus_dir = opts.work.join("corpus");
    let out_dir = opts.work.join("out");
    if corpus_dir.exists() {
        std::fs::remove_dir_all(&corpus_dir)?;
    }
    let t = Instant::now();
    let (files, bytes) = build_corpus(&opts.corpus, opts.times, &corpus_dir)?;
    // The copies just written are still being flushed to disk: let that finish first, so
    // that neither side is timed while the disk and the kernel are busy with it.
    flush_to_disk();
    eprintln!(
        "scale corpus: {files} reports, {:.1} MB ({} x {}), built in {:.1} s",
        bytes as f64 / 1e6,
        opts.times,
        opts.corpus.display(),
        t.elapsed().as_secs_f64()
    );
    let mb = bytes as f64 / 1e6;

    let terms_file = opts.work.join("terms.txt");
    std::fs::write(&terms_file, codebook_terms(res))?;
    let settings = Settings {
        name: "bench".into(),
        pipeline_file: None,
        input: corpus_dir.clone(),
        output: out_dir,
        codebook: None,
        lexicon: None,
        authorities: None,
        sections: None,
        threads: opts.threads,
        parquet: false,
        charts: true,
        evaluation: None,
    };
    let mut rg_walls: Vec<f64> = Vec::new();
    let mut walls: Vec<f64> = Vec::new();
    let mut best: Option<RunStats> = None;
    let mut peak: Option<u64> = None;
    for _ in 0..opts.runs.max(1) {
        if let Some(r) = ripgrep(&terms_file, &corpus_dir) {
            rg_walls.push(r);
        }
        // Each run writes into an empty folder, with the last run's outputs off the disk queue.
        if settings.output.exists() {
            std::fs::remove_dir_all(&settings.output)?;
        }
        flush_to_disk();
        let t = Instant::now();
        let files = ingest::discover(&settings.input)?;
        let mut sink = Sink::new(&settings, res)?;
        let pb = indicatif::ProgressBar::hidden();
        let mut stats =
            pipeline::run_streaming(&files, settings.threads, res, false, &pb, |d| sink.add(d))?;
        sink.finish(&mut stats)?;
        let wall = t.elapsed().as_secs_f64();
        // Later runs start with the memory the allocator kept from the first: only the
        // first run's peak is the pipeline's own.
        if walls.is_empty() {
            peak = peak_rss_kib();
        }
        if walls.iter().all(|&w| wall < w) {
            best = Some(stats);
        }
        walls.push(wall);
    }
    let stats = best.expect("at least one run");
    let wall = walls.iter().copied().fold(f64::INFINITY, f64::min);
    let rg = rg_walls.iter().copied().reduce(f64::min);
    let list = |v: &[f64]| {
        v.iter()
            .map(|w| format!("{w:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };

    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "corpus            {files} reports, {mb:.1} MB",
        files = stats.files
    )?;
    writeln!(o, "threads           {}", stats.threads)?;
    writeln!(
        o,
        "pipeline wall     {wall:.2} s  ({:.1} MB/s, {:.0} reports/s); fastest of {} s",
        mb / wall,
        stats.files as f64 / wall,
        list(&walls)
    )?;
    match rg {
        Some(r) => writeln!(
            o,
            "ripgrep raw scan  {r:.2} s  ({:.1} MB/s); fastest of {} s; pipeline / ripgrep = {:.1}x",
            mb / r,
            list(&rg_walls),
            wall / r
        )?,
        None => writeln!(o, "ripgrep raw scan  not run (rg not found on PATH)")?,
    }
    match peak {
        Some(k) => writeln!(
            o,
            "peak memory       {:.0} MiB (first run)",
            k as f64 / 1024.0
        )?,
        None => writeln!(o, "peak memory       unknown on this system")?,
    }
    writeln!(o, "stage seconds of the fastest run (summed over threads):")?;
    for s in Stage::ALL {
        writeln!(
            o,
            "  {:<16} {:>8.3}",
            s.as_str(),
            stats.times.get(s).as_secs_f64()
        )?;
    }
    Ok(())
}

/// Seconds `rg -c -i -F` takes to count the lines holding any of the terms in `terms_file`
/// under `dir`, or `None` when ripgrep is not installed or fails.
fn ripgrep(terms_file: &Path, dir: &Path) -> Option<f64> {
    let t = Instant::now();
    let out = std::process::Command::new("rg")
        .args(["-c", "-i", "-F", "-f"])
        .arg(terms_file)
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .status();
    match out {
        Ok(s) if s.success() || s.code() == Some(1) => Some(t.elapsed().as_secs_f64()),
        _ => None,
    }
}

/// Write every file system's pending data to disk and wait for it (Unix `sync`).
fn flush_to_disk() {
    #[cfg(unix)]
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe {
        libc::sync();
    }
}
