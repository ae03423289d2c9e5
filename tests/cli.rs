//! End-to-end tests: the built binary on the sample reports and on awkward inputs, in
//! temporary folders.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Width and height from a PNG's IHDR chunk, checking the signature.
fn png_size(path: &Path) -> (u32, u32) {
    let b = fs::read(path).unwrap();
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR");
    (
        u32::from_be_bytes(b[16..20].try_into().unwrap()),
        u32::from_be_bytes(b[20..24].try_into().unwrap()),
    )
}

/// Run the sample corpus once into a temp folder.
fn sample_run(threads: &str) -> (tempfile::TempDir, Output) {
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "run",
        "pipelines/default.toml",
        "--output",
        s(out.path()),
        "--threads",
        threads,
        "--quiet",
    ]);
    (out, o)
}

#[test]
fn sample_corpus_end_to_end() {
    let (out, o) = sample_run("2");
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dir = out.path();
    let docs = csv_rows(&dir.join("documents.csv"));
    let got: Vec<(&str, &str, &str, &str)> = docs
        .iter()
        .map(|d| {
            (
                d["document"].as_str(),
                d["status"].as_str(),
                d["authority"].as_str(),
                d["la_code"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("000_8d2a28b45114fd79.txt", "ok", "Wirral", "E08000015"),
            ("001_15739eb7dadc952a.txt", "ok", "Wigan", "E08000010"),
            ("002_f51f18bc69bf995d.txt", "ok", "Warrington", "E06000007"),
            ("003_5b1fa5a77ee66041.txt", "ok", "Knowsley", "E08000011"),
            ("004_c7e03118bb44fc81.txt", "ok", "Wirral", "E08000015"),
        ]
    );
    assert_eq!(docs[4]["year"], "2011");
    assert_eq!(docs[1]["visit_type"], "focused_visit");

    // Every finding is text that stands in its report (white space aside).
    let findings = csv_rows(&dir.join("findings.csv"));
    assert!(findings.len() > 500, "only {} findings", findings.len());
    let squash = |t: &str| {
        t.chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase()
    };
    let sources: BTreeMap<String, String> = docs
        .iter()
        .map(|d| {
            (
                d["document"].clone(),
                squash(
                    &fs::read_to_string(repo().join("data/reports").join(&d["document"])).unwrap(),
                ),
            )
        })
        .collect();
    for f in &findings {
        assert!(
            sources[&f["document"]].contains(&squash(&f["text"])),
            "finding not in its report: {f:?}"
        );
    }
    // Per-document counts agree with findings.csv.
    for d in &docs {
        let n = findings
            .iter()
            .filter(|f| f["document"] == d["document"])
            .count();
        assert_eq!(d["findings"], n.to_string());
    }

    // Tags: every tag's matched words occur in its finding, and themes agree with findings.csv.
    let tags = csv_rows(&dir.join("tags.csv"));
    let by_id: BTreeMap<(String, String), &BTreeMap<String, String>> = findings
        .iter()
        .map(|f| ((f["document"].clone(), f["finding_id"].clone()), f))
        .collect();
    for t in &tags {
        let f = by_id[&(t["document"].clone(), t["finding_id"].clone())];
        for m in t["matched"]
            .split(" | ")
            .filter(|m| !m.starts_with("(continues"))
        {
            assert!(
                f["text"].contains(m),
                "matched {m:?} not in {:?}",
                f["text"]
            );
        }
        assert!(f["themes"]
            .split(';')
            .any(|x| x == format!("{}={}", t["theme"], t["stance"])));
    }
    for theme in [
        "strategy_meetings",
        "caseloads",
        "audit_quality",
        "thresholds",
    ] {
        assert!(
            tags.iter().any(|t| t["theme"] == theme),
            "no {theme} tag in the sample"
        );
    }

    // Aggregates add up to the tags.
    let by_year = csv_rows(&dir.join("themes_by_year.csv"));
    let total: usize = by_year
        .iter()
        .map(|r| r["findings"].parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, tags.len());
    let by_ay = csv_rows(&dir.join("themes_by_authority_year.csv"));
    let concern: usize = by_ay
        .iter()
        .map(|r| r["concern"].parse::<usize>().unwrap())
        .sum();
    assert_eq!(
        concern,
        tags.iter().filter(|t| t["stance"] == "concern").count()
    );
    assert_eq!(csv_rows(&dir.join("themes_by_document.csv")).len(), 5);

    // Charts, summaries and run.json.
    for chart in [
        "trend_required",
        "stance_by_theme",
        "heatmap_concern",
        "trend/caseloads",
    ] {
        let (w, h) = png_size(&dir.join(format!("charts/{chart}.png")));
        assert!(w >= 1200 && h >= 400, "{chart}: {w}x{h}");
    }
    let summary = fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("](charts/trend_required.png)"));
    assert!(summary.contains("[Wirral](summaries/wirral.md)"));
    let wirral = fs::read_to_string(dir.join("summaries/wirral.md")).unwrap();
    assert!(
        wirral.contains("| 2011-01-24 | safeguarding_lac_inspection |"),
        "{wirral}"
    );
    let run_json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["status"]["ok"], 5);
    assert!(run_json["seconds"]["stages"]["analyse_and_tag"].is_number());
}

#[test]
fn same_output_whatever_the_thread_count() {
    let (a, oa) = sample_run("1");
    let (b, ob) = sample_run("2");
    assert!(oa.status.success() && ob.status.success());
    let mut files = Vec::new();
    for e in walk(a.path()) {
        let rel = e.strip_prefix(a.path()).unwrap().to_path_buf();
        if rel == Path::new("run.json") {
            continue; // holds timings
        }
        files.push(rel);
    }
    assert!(files.len() > 20);
    for rel in files {
        assert_eq!(
            fs::read(a.path().join(&rel)).unwrap(),
            fs::read(b.path().join(&rel)).unwrap(),
            "{} differs",
            rel.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn bad_files_are_listed_and_the_rest_processed() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = fs::read("data/reports/001_15739eb7dadc952a.txt").unwrap();
    fs::write(input.path().join("a_report.txt"), &report).unwrap();
    fs::create_dir(input.path().join("nested")).unwrap();
    fs::write(input.path().join("nested/copy.txt"), &report).unwrap();
    fs::write(input.path().join("empty.txt"), b"").unwrap();
    fs::write(
        input.path().join("random.txt"),
        [0u8, 159, 146, 150, 7, 0, 1, 2, 3, 255],
    )
    .unwrap();
    fs::write(
        input.path().join("notes.txt"),
        "Shopping list: milk, eggs and bread. Call the plumber on Tuesday.",
    )
    .unwrap();
    fs::write(
        input.path().join("letter.docx"),
        b"PK\x03\x04 not really a docx",
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        input.path().join("missing-target.txt"),
        input.path().join("dangling.txt"),
    )
    .unwrap();

    let o = run(&["run", "--input", s(input.path()), "--output", s(out.path())]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let rows = csv_rows(&out.path().join("documents.csv"));
    let status: BTreeMap<&str, (&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["document"].as_str(),
                (r["status"].as_str(), r["message"].as_str()),
            )
        })
        .collect();
    assert_eq!(status["a_report.txt"].0, "ok");
    assert_eq!(
        status["nested/copy.txt"],
        ("duplicate", "same text as a_report.txt; not counted again")
    );
    assert_eq!(status["empty.txt"], ("skipped", "empty file"));
    assert_eq!(
        status["random.txt"],
        ("skipped", "binary content, not text")
    );
    assert_eq!(status["notes.txt"].0, "skipped");
    assert!(status["notes.txt"].1.starts_with("no report text"));
    assert_eq!(
        status["letter.docx"].1,
        "unsupported file type '.docx'; only .pdf, .txt, .text or .md reports are read"
    );
    #[cfg(unix)]
    {
        assert_eq!(status["dangling.txt"].0, "failed");
        assert_eq!(o.status.code(), Some(2), "a failed file sets exit code 2");
        assert!(stderr.contains("dangling.txt"), "{stderr}");
    }
    assert_eq!(rows.len(), 7, "every file accounted for");
    // The duplicate is not counted again.
    let by_doc = csv_rows(&out.path().join("themes_by_document.csv"));
    assert_eq!(by_doc.len(), 1);
    assert!(stderr.contains("empty.txt: empty file"), "{stderr}");
}

#[test]
fn skipped_files_alone_exit_zero() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    fs::write(input.path().join("empty.txt"), b"").unwrap();
    fs::write(input.path().join("blob.txt"), [0u8; 64]).unwrap();
    let o = run_folder(input.path(), out.path());
    assert_eq!(o.status.code(), Some(0));
    let rows = csv_rows(&out.path().join("documents.csv"));
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["status"] == "skipped"));
}

#[test]
fn pipeline_typo_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.toml");
    fs::write(&p, "input = \"reports\"\noutptu = \"out\"\n").unwrap();
    let o = run(&["run", s(&p)]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("p.toml line 2 column 1"), "{err}");
    assert!(err.contains("outptu"), "{err}");
}

#[test]
fn missing_input_folder_is_one_clear_error() {
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "run",
        "--input",
        "/nonexistent/reports",
        "--output",
        s(out.path()),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: input folder /nonexistent/reports cannot be read"),
        "{err}"
    );
    assert_eq!(
        fs::read_dir(out.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn codebook_check_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cb.toml");
    fs::write(&p, "[[theme]]\nid = \"a\"\nlabel = \"A\"\nterms = [\"\"]\n\n[[theme]]\nid = \"a\"\nlabel = \"B\"\nterms = [\"x\"]\nunless = [\"zz\"]\n").unwrap();
    let o = run(&["codebook", "check", s(&p)]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("3 problems"), "{err}");
    assert!(
        err.contains("line 4: theme 'a': empty term pattern"),
        "{err}"
    );
    assert!(
        err.contains("line 7: theme 'a': duplicate theme id 'a'"),
        "{err}"
    );
    assert!(err.contains("unknown theme 'zz'"), "{err}");
    let ok = run(&["codebook", "check", "data/codebook/default.toml"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let show = run(&["codebook", "show"]);
    assert!(String::from_utf8_lossy(&show.stdout).contains("strategy_meetings (required)"));
}

/// Every line of `kwic.csv` quotes its finding: the match with up to six words either side, in
/// the finding's own words, under a theme the finding carries; every tag has its lines.
#[test]
fn keyword_in_context_lines_quote_their_findings() {
    let (out, o) = sample_run("2");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let findings: BTreeMap<(String, String), BTreeMap<String, String>> =
        csv_rows(&out.path().join("findings.csv"))
            .into_iter()
            .map(|r| ((r["document"].clone(), r["finding_id"].clone()), r))
            .collect();
    let kwic = csv_rows(&out.path().join("kwic.csv"));
    assert!(kwic.len() > 500, "{} lines", kwic.len());
    let mut tagged = std::collections::BTreeSet::new();
    for k in &kwic {
        let key = (k["document"].clone(), k["finding_id"].clone());
        let f = &findings[&key];
        assert!(!k["match"].is_empty(), "{k:?}");
        let text = f["text"].as_str();
        let (left, m, right) = (k["left"].as_str(), k["match"].as_str(), k["right"].as_str());
        let quoted = text.match_indices(m).any(|(i, _)| {
            text[..i].trim_end().ends_with(left)
                && text[i + m.len()..].trim_start().starts_with(right)
        });
        assert!(quoted, "{left:?} {m:?} {right:?} not in {text:?}");
        for side in ["left", "right"] {
            let words = k[side]
                .split_whitespace()
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .count();
            assert!(words <= 6, "{k:?}");
            assert_eq!(k[side].trim(), k[side], "{k:?}");
        }
        assert!(
            f["themes"]
                .split(';')
                .any(|t| t.split('=').next() == Some(&k["theme"])),
            "{k:?} not among {}",
            f["themes"]
        );
        tagged.insert((key, k["theme"].clone()));
    }
    for t in csv_rows(&out.path().join("tags.csv")) {
        if !t["matched"].starts_with("(continues") {
            let key = (
                (t["document"].clone(), t["finding_id"].clone()),
                t["theme"].clone(),
            );
            assert!(tagged.contains(&key), "no kwic line for {t:?}");
        }
    }
}

#[test]
fn parquet_tables_on_request() {
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "run",
        "pipelines/default.toml",
        "--parquet",
        "--quiet",
        "--output",
        s(out.path()),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for name in [
        "documents",
        "findings",
        "tags",
        "kwic",
        "themes_by_authority_year",
        "themes_by_year",
        "themes_by_document",
    ] {
        let bytes = fs::read(out.path().join(format!("parquet/{name}.parquet"))).unwrap();
        assert!(
            bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
            "{name} is not Parquet"
        );
    }
}

#[cfg(unix)]
#[test]
fn outputs_have_the_permissions_of_an_ordinary_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    fs::copy(
        repo()
            .join("data/reports")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
        input.path().join("r.txt"),
    )
    .unwrap();
    assert_eq!(run_folder(input.path(), out.path()).status.code(), Some(0));
    // A file this process writes gets 0666 less the umask; outputs must match it, not 0600.
    let probe = out.path().join("probe");
    fs::write(&probe, b"x").unwrap();
    let want = fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
    for name in ["documents.csv", "findings.csv", "summary.md", "run.json"] {
        let got = fs::metadata(out.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(got, want, "{name}: {got:o} vs {want:o}");
    }
}
