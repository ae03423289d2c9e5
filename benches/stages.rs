//! Per-stage throughput on one thread: `cargo bench --bench stages [-- FOLDER [PASSES]]`.
//!
//! Reads every text report under FOLDER (default `../shared/corpus/ofsted-csc`) into memory,
//! then runs each per-document stage over all of them PASSES times (default 3) and prints
//! the best pass per stage in seconds and MB/s of source text. Reading files, writing and
//! charts are left out: `ofsted-themes bench` measures the whole run. Prints a note and
//! exits when the folder is absent.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ofsted_themes::ingest::{self, Loaded};
use ofsted_themes::pipeline::Resources;
use ofsted_themes::tag::Workspace;
use ofsted_themes::{metadata, normalise, segment};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dir = args.first().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/ofsted-csc")
    });
    let passes: usize = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(3);
    if !dir.is_dir() {
        println!("stages: {} not found; nothing to measure", dir.display());
        return;
    }
    let files = ingest::discover(&dir).expect("list the folder");
    let texts: Vec<String> = files
        .iter()
        .filter_map(|f| match ingest::load(f).0 {
            Loaded::Text { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    let mb = texts.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    let res = Resources::load(None, None, None).expect("bundled resources");
    println!(
        "{} reports, {mb:.1} MB, best of {passes} passes, 1 thread",
        texts.len()
    );

    let mut best = [Duration::MAX; 5];
    for _ in 0..passes {
        let mut ws = Workspace::default();
        let mut t = [Duration::ZERO; 5];
        for text in &texts {
            let s = Instant::now();
            let clean = normalise::normalise(text);
            t[0] += s.elapsed();
            let s = Instant::now();
            let meta = metadata::extract(text, &clean, &res.authorities);
            t[1] += s.elapsed();
            std::hint::black_box(&meta);
            let s = Instant::now();
            let findings = segment::segment_with(&clean, &res.sections);
            t[2] += s.elapsed();
            let s = Instant::now();
            let tagged = res.tagger.tag_document(
                findings
                    .iter()
                    .map(|f| (f.id, f.source_start, f.text.as_str())),
                &mut ws,
            );
            t[3] += s.elapsed();
            let s = Instant::now();
            for (f, tg) in findings.iter().zip(&tagged) {
                let st = res.stance.read_tagged(f, tg, &mut ws);
                std::hint::black_box(st);
            }
            t[4] += s.elapsed();
        }
        for (b, x) in best.iter_mut().zip(t) {
            *b = (*b).min(x);
        }
    }
    let names = [
        "normalise",
        "metadata",
        "segment",
        "analyse_and_tag",
        "stance",
    ];
    let total: Duration = best.iter().sum();
    for (n, d) in names.iter().zip(best).chain([(&"all five", total)]) {
        let s = d.as_secs_f64();
        println!("  {n:<16} {s:>7.3} s  {:>7.1} MB/s", mb / s);
    }
}
