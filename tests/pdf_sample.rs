//! The real Ofsted PDFs in `../shared/corpus/pdf-sample/pdf` (when that folder exists): every
//! one is read in-process and resolves to the authority its manifest names.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn sample_pdfs_match_their_manifest() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let sample = repo.join("../shared/corpus/pdf-sample");
    if !sample.join("pdf").is_dir() {
        eprintln!("skipped: {} not found", sample.join("pdf").display());
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["run", "--quiet", "--input"])
        .arg(sample.join("pdf"))
        .arg("--output")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: BTreeMap<String, String> = csv_rows(&sample.join("manifest.csv"))
        .into_iter()
        .map(|r| (format!("{}.pdf", r["id"]), r["ons_code"].clone()))
        .collect();
    let docs = csv_rows(&out.path().join("documents.csv"));
    assert_eq!(docs.len(), manifest.len());
    for d in &docs {
        assert_eq!(d["status"], "ok", "{d:?}");
        assert_eq!(d["la_code"], manifest[&d["document"]], "{}", d["document"]);
        assert!(
            !d["visit_type"].is_empty() && !d["visit_start"].is_empty(),
            "{d:?}"
        );
        assert!(d["findings"].parse::<usize>().unwrap() > 20, "{d:?}");
    }
}

/// Gold coded from text extractions is scored against the original PDFs, read in-process: each
/// gold document `X.txt` is found as `X.pdf`, every gold finding is placed, and every metadata
/// field agrees.
#[test]
fn gold_is_scored_against_the_original_pdfs() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let pdfs = repo.join("../shared/corpus/pdf-sample/pdf");
    let gold = repo.join("../shared/gold/pdf-sample");
    if !pdfs.is_dir() || !gold.is_dir() {
        eprintln!(
            "skipped: {} or {} not found",
            pdfs.display(),
            gold.display()
        );
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .arg("evaluate")
        .arg("--gold")
        .arg(&gold)
        .arg("--input")
        .arg(&pdfs)
        .arg("--output")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: BTreeMap<String, String> = csv_rows(&out.path().join("summary.csv"))
        .into_iter()
        .map(|r| (r["metric"].clone(), r["value"].clone()))
        .collect();
    assert_eq!(summary["documents_missing"], "0", "{summary:?}");
    let placed: usize = summary["gold_placed"].parse().unwrap();
    let findings: usize = summary["gold_findings"].parse().unwrap();
    assert!(
        placed * 100 >= findings * 99,
        "{placed} of {findings} placed"
    );
    assert_eq!(summary["metadata_accuracy"], "1.0000", "{summary:?}");
}
