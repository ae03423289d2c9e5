//! Robustness of the built binary: awkward input files (encodings, binary content, a 6 MB
//! line, symbolic link loops, dangling links, non-reports, other file types), a run killed
//! while it writes into a folder that already holds outputs, and unusable configuration.
//!
//! Every test builds its inputs in temporary folders from the sample reports in
//! `data/reports/` and reads the outputs back with the csv crate.

mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const SAMPLES: [&str; 5] = [
    "000_8d2a28b45114fd79.txt",
    "001_15739eb7dadc952a.txt",
    "002_f51f18bc69bf995d.txt",
    "003_5b1fa5a77ee66041.txt",
    "004_c7e03118bb44fc81.txt",
];

fn sample(name: &str) -> String {
    fs::read_to_string(repo().join("data/reports").join(name)).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).unwrap();
    }
    fs::write(path, bytes).unwrap();
}

/// `documents.csv` as document -> (status, message), checking each document appears once.
fn statuses(out: &Path) -> BTreeMap<String, (String, String)> {
    let rows = csv_rows(&out.join("documents.csv"));
    let mut map = BTreeMap::new();
    for r in &rows {
        let prev = map.insert(
            r["document"].clone(),
            (r["status"].clone(), r["message"].clone()),
        );
        assert!(prev.is_none(), "{} listed twice", r["document"]);
    }
    map
}

/// Windows-1252 bytes of a text made of ASCII plus the few characters used here.
fn windows_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '£' => 0xA3,
            '“' => 0x93,
            '”' => 0x94,
            '’' => 0x92,
            c if c.is_ascii() => c as u8,
            c => panic!("{c:?} has no Windows-1252 byte here"),
        })
        .collect()
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        out.extend(u.to_le_bytes());
    }
    out
}

/// Deterministic pseudo-random bytes (xorshift), restricted to `lo..=255`.
fn noise(len: usize, lo: u8, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let span = 256 - lo as u64;
            lo + (seed % span) as u8
        })
        .collect()
}

/// Every file under `dir` (relative path -> bytes).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// Relative paths of every file under `dir`, without reading them.
fn list(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out
}

fn is_hidden_temp(rel: &Path) -> bool {
    let name = rel.file_name().unwrap().to_string_lossy();
    name.starts_with(".ofsted-themes-") && name.ends_with(".tmp")
}

/// The cp1252 report: sample 001 with a sentence holding a pound sign, curly quotes and a
/// curly apostrophe.
const CP1252_FROM: &str = "Development work has been undertaken, and this has ensured that \
                           there is now a single effective front door response";
const CP1252_TO: &str = "Development work costing £250,000 has been undertaken, and this \
                         has ensured that there is now a single effective “front door” \
                         response";

fn cp1252_report_text() -> String {
    let base = sample(SAMPLES[1]);
    assert_eq!(base.matches(CP1252_FROM).count(), 1);
    base.replacen(CP1252_FROM, CP1252_TO, 1).replacen(
        "the local authority's arrangements",
        "the local authority’s arrangements",
        1,
    )
}

/// Builds the awkward-input folder (on unix with a symbolic link loop and a dangling link).
/// Returns the documents expected with status `ok`.
fn awkward_folder(root: &Path) -> Vec<&'static str> {
    write(&root.join("reports/000.txt"), sample(SAMPLES[0]));
    write(
        &root.join("reports/deep/er/still/003.txt"),
        sample(SAMPLES[3]),
    );
    let cp = cp1252_report_text();
    write(&root.join("encodings/cp1252.txt"), windows_1252(&cp));
    write(&root.join("encodings/utf8.txt"), cp.as_bytes());
    write(
        &root.join("encodings/utf16le.txt"),
        utf16le_with_bom(&sample(SAMPLES[4])),
    );
    write(
        &root.join("encodings/z_utf8_of_utf16.txt"),
        sample(SAMPLES[4]),
    );
    // 6 MB of report 002 with no line break at all.
    let flat = sample(SAMPLES[2]).replace(['\n', '\r'], " ");
    let mut long = String::with_capacity(6 * 1024 * 1024 + flat.len());
    while long.len() < 6 * 1024 * 1024 {
        long.push_str(&flat);
        long.push(' ');
    }
    assert!(!long.contains('\n'));
    write(&root.join("long_line.txt"), &long);
    write(&root.join("empty.txt"), b"");
    write(&root.join("bom_only.txt"), b"\xEF\xBB\xBF");
    write(&root.join("random.txt"), noise(65536, 1, 0x9E37_79B9));
    write(&root.join("random_high.txt"), noise(65536, 0x80, 42));
    write(
        &root.join("not_a_report.txt"),
        "Lemon drizzle cake\n\nCream the butter and sugar until pale. Beat in the eggs one at a \
         time, then fold in the flour and the zest of two lemons.\n\nBake for forty minutes at \
         180 degrees. While the cake is still warm, pour over the lemon juice mixed with \
         granulated sugar. Leave it to cool in the tin before slicing.\n",
    );
    write(
        &root.join("scan.pdf"),
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Length 900 /Filter /FlateDecode >>\nstream\nx\x9c\xab\xcc",
    );
    write(
        &root.join("letter.docx"),
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00word/document.xml",
    );
    #[cfg(unix)]
    {
        fs::create_dir_all(root.join("a")).unwrap();
        std::os::unix::fs::symlink("..", root.join("a/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("nowhere.txt"), root.join("gone.txt")).unwrap();
    }
    vec![
        "encodings/cp1252.txt",
        "encodings/utf16le.txt",
        "reports/000.txt",
        "reports/deep/er/still/003.txt",
    ]
}

#[test]
fn awkward_inputs_each_get_one_documented_row() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let ok_expected = awkward_folder(input.path());
    let o = run(&["run", "--input", s(input.path()), "--output", s(out.path())]);
    let err = stderr(&o);
    let st = statuses(out.path());

    let mut names: BTreeSet<&str> = [
        "bom_only.txt",
        "empty.txt",
        "encodings/cp1252.txt",
        "encodings/utf16le.txt",
        "encodings/utf8.txt",
        "encodings/z_utf8_of_utf16.txt",
        "letter.docx",
        "long_line.txt",
        "not_a_report.txt",
        "random.txt",
        "random_high.txt",
        "reports/000.txt",
        "reports/deep/er/still/003.txt",
        "scan.pdf",
    ]
    .into();
    if cfg!(unix) {
        names.extend(["a/loop", "gone.txt"]);
    }
    assert_eq!(
        st.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        names,
        "one row per entry"
    );
    let status = |d: &str| st[d].0.as_str();
    let message = |d: &str| st[d].1.as_str();

    for d in &ok_expected {
        assert_eq!(status(d), "ok", "{d}: {:?}", st[*d]);
    }
    assert!(
        ["ok", "skipped"].contains(&status("long_line.txt")),
        "{:?}",
        st["long_line.txt"]
    );
    // Windows-1252 and UTF-8 of the same report read as the same text.
    assert_eq!(
        st["encodings/utf8.txt"],
        (
            "duplicate".to_string(),
            "same text as encodings/cp1252.txt; not counted again".to_string()
        )
    );
    assert_eq!(
        st["encodings/z_utf8_of_utf16.txt"],
        (
            "duplicate".to_string(),
            "same text as encodings/utf16le.txt; not counted again".to_string()
        )
    );
    assert_eq!(st["empty.txt"], ("skipped".into(), "empty file".into()));
    assert_eq!(status("bom_only.txt"), "skipped");
    assert_eq!(message("bom_only.txt"), "empty file");
    assert_eq!(
        st["random.txt"],
        ("skipped".into(), "binary content, not text".into())
    );
    assert_eq!(status("random_high.txt"), "skipped");
    assert!(message("random_high.txt").starts_with("no report text"));
    assert_eq!(status("not_a_report.txt"), "skipped");
    assert!(
        message("not_a_report.txt").starts_with("no report text: not an Ofsted report"),
        "{}",
        message("not_a_report.txt")
    );
    for other in ["scan.pdf", "letter.docx"] {
        assert!(
            ["skipped", "failed"].contains(&status(other)),
            "{other}: {:?}",
            st[other]
        );
        assert!(!message(other).trim().is_empty(), "{other} has no message");
    }
    assert!(
        message("letter.docx").contains(".docx"),
        "{:?}",
        st["letter.docx"]
    );
    #[cfg(unix)]
    {
        assert_eq!(
            st["a/loop"],
            ("failed".into(), "symbolic link loop; not followed".into())
        );
        assert_eq!(status("gone.txt"), "failed");
        assert!(
            message("gone.txt").starts_with("cannot read"),
            "{:?}",
            st["gone.txt"]
        );
        assert_eq!(
            o.status.code(),
            Some(2),
            "failed entries give exit code 2: {err}"
        );
        assert!(err.contains("a/loop: symbolic link loop"), "{err}");
    }

    // The UTF-16 report has the metadata of its UTF-8 original.
    let docs = csv_rows(&out.path().join("documents.csv"));
    let row = |d: &str| docs.iter().find(|r| r["document"] == d).unwrap();
    for col in ["authority", "la_code", "year", "visit_type", "words"] {
        assert_eq!(
            row("encodings/utf16le.txt")[col],
            row("encodings/z_utf8_of_utf16.txt")[col],
            "{col}"
        );
    }
    assert_eq!(row("encodings/utf16le.txt")["authority"], "Wirral");
    assert_eq!(row("encodings/cp1252.txt")["authority"], "Wigan");

    // The Windows-1252 characters arrive intact in findings.csv (quotes made straight).
    let findings = csv_rows(&out.path().join("findings.csv"));
    let cp: Vec<&str> = findings
        .iter()
        .filter(|f| f["document"] == "encodings/cp1252.txt")
        .map(|f| f["text"].as_str())
        .collect();
    assert!(
        cp.iter().any(|t| t.contains(
            "Development work costing £250,000 has been undertaken, and this has ensured that \
             there is now a single effective \"front door\" response"
        )),
        "pound sign or quotes lost: {cp:#?}"
    );
    assert!(cp
        .iter()
        .any(|t| t.contains("local authority's arrangements")));
    let utf16: Vec<&str> = findings
        .iter()
        .filter(|f| f["document"] == "encodings/utf16le.txt")
        .map(|f| f["text"].as_str())
        .collect();
    assert!(utf16.iter().any(|t| t.contains('£')), "£ lost from UTF-16");
    for f in &findings {
        if f["document"].starts_with("encodings/") {
            assert!(
                !f["text"].contains(['\u{FFFD}', 'Â', 'Ã', '\u{FEFF}']),
                "mis-decoded: {f:?}"
            );
        }
    }
    // Only ok documents reach the tables.
    let counted: BTreeSet<String> = csv_rows(&out.path().join("themes_by_document.csv"))
        .into_iter()
        .map(|r| r["document"].clone())
        .collect();
    let ok: BTreeSet<String> = st
        .iter()
        .filter(|(_, v)| v.0 == "ok")
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(counted, ok);

    // Exit code 2 exactly when a row failed: without every failed entry the same folder
    // exits 0 and every other row is unchanged.
    let failed: Vec<String> = st
        .iter()
        .filter(|(_, v)| v.0 == "failed")
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(
        o.status.code(),
        Some(if failed.is_empty() { 0 } else { 2 }),
        "{err}"
    );
    for d in &failed {
        fs::remove_file(input.path().join(d)).unwrap();
    }
    let out2 = tempfile::tempdir().unwrap();
    let o2 = run_folder(input.path(), out2.path());
    assert_eq!(o2.status.code(), Some(0), "{}", stderr(&o2));
    let mut without = st.clone();
    without.retain(|k, _| !failed.contains(k));
    assert_eq!(statuses(out2.path()), without);
}

#[test]
fn texts_about_ofsted_that_are_not_reports_are_not_counted() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    write(&input.path().join("report.txt"), sample(SAMPLES[0]));
    write(
        &input.path().join("press_release.txt"),
        "Council welcomes Ofsted findings\n\nThe council's children's services were inspected \
         last month. Inspectors from Ofsted said that social workers knew their children well. \
         The council leader said she was delighted and thanked every member of staff.\n",
    );
    fs::copy(repo().join("README.md"), input.path().join("README.md")).unwrap();
    let o = run_folder(input.path(), out.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let st = statuses(out.path());
    assert_eq!(st["report.txt"].0, "ok");
    for d in ["press_release.txt", "README.md"] {
        assert_eq!(st[d].0, "skipped", "{d} is not a report: {:?}", st[d]);
    }
    assert_eq!(
        csv_rows(&out.path().join("themes_by_document.csv")).len(),
        1,
        "only the report is counted"
    );
}

/// 300 report files, each sample report with one added line so none is a duplicate.
fn large_input(root: &Path) {
    for i in 0..60 {
        for name in SAMPLES {
            let mut text = sample(name);
            text.push_str(&format!(
                "\n\nThis copy, number {i}, was made for the interruption test.\n"
            ));
            write(&root.join(format!("copy{i:02}/{name}")), text);
        }
    }
}

/// Every file in `out` is an old output, a complete new output or a hidden temporary file;
/// every old output is still there. Returns the hidden temporary files seen and how many
/// outputs already hold new content.
fn check_old_or_new(
    out: &Path,
    old: &BTreeMap<PathBuf, Vec<u8>>,
    new: &BTreeMap<PathBuf, Vec<u8>>,
    unrelated: &BTreeMap<PathBuf, Vec<u8>>,
) -> (Vec<PathBuf>, usize) {
    let now = snapshot(out);
    let mut temps = Vec::new();
    let mut replaced = 0;
    for (rel, bytes) in &now {
        if is_hidden_temp(rel) {
            temps.push(rel.clone());
            continue;
        }
        if let Some(b) = unrelated.get(rel) {
            assert_eq!(b, bytes, "{} (not ours) was changed", rel.display());
            continue;
        }
        if rel.extension().is_some_and(|e| e == "csv") {
            let _ = csv_rows(&out.join(rel));
        }
        if rel == Path::new("run.json") {
            let v: serde_json::Value = serde_json::from_slice(bytes)
                .unwrap_or_else(|e| panic!("run.json is not complete JSON: {e}"));
            let files = v["files"].as_u64();
            assert!(
                files == Some(5) || files == Some(300),
                "run.json from neither run: {v}"
            );
            continue;
        }
        let is_old = old.get(rel) == Some(bytes);
        let is_new = new.get(rel) == Some(bytes);
        if is_new && !is_old {
            replaced += 1;
        }
        assert!(
            is_old || is_new,
            "{} is neither the old nor the new complete file ({} bytes)",
            rel.display(),
            bytes.len()
        );
    }
    for rel in old.keys() {
        assert!(now.contains_key(rel), "{} disappeared", rel.display());
    }
    (temps, replaced)
}

#[test]
fn killed_run_leaves_each_output_old_or_new() {
    let small = tempfile::tempdir().unwrap();
    for name in SAMPLES {
        write(&small.path().join(name), sample(name));
    }
    let big = tempfile::tempdir().unwrap();
    large_input(big.path());
    let out = tempfile::tempdir().unwrap();
    let reference = tempfile::tempdir().unwrap();
    let unrelated: BTreeMap<PathBuf, Vec<u8>> = [
        (PathBuf::from("my notes.txt"), b"keep me\n".to_vec()),
        (PathBuf::from("charts/mine.png"), b"not a real png".to_vec()),
    ]
    .into();
    for (rel, b) in &unrelated {
        write(&out.path().join(rel), b);
    }
    let args = |input: &Path, output: &Path| {
        vec![
            "run".to_string(),
            "--input".into(),
            s(input).into(),
            "--output".into(),
            s(output).into(),
            "--quiet".into(),
        ]
    };

    let o = Command::new(BIN)
        .args(args(small.path(), out.path()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mut old = snapshot(out.path());
    for rel in unrelated.keys() {
        old.remove(rel);
    }
    let o = Command::new(BIN)
        .args(args(big.path(), reference.path()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let new = snapshot(reference.path());
    let ref_docs = statuses(reference.path());
    assert_eq!(ref_docs.len(), 300);
    assert!(
        ref_docs.values().all(|(st, _)| st == "ok"),
        "copies must not be duplicates"
    );

    // Kill at fixed delays, then once the write stage has started its n-th new file.
    enum When {
        After(u64),
        NewTemps(usize),
    }
    let plan = [
        When::After(150),
        When::After(50),
        When::NewTemps(1),
        When::NewTemps(6),
        When::NewTemps(20),
    ];
    let plan_len = plan.len();
    let mut killed_while_running = 0;
    let mut temps_left = 0;
    let mut replaced_after_kill = Vec::new();
    for when in plan {
        let temps_before: BTreeSet<PathBuf> = list(out.path())
            .into_iter()
            .filter(|r| is_hidden_temp(r))
            .collect();
        let mut child = Command::new(BIN)
            .args(args(big.path(), out.path()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        match when {
            When::After(ms) => std::thread::sleep(Duration::from_millis(ms)),
            When::NewTemps(n) => {
                let mut seen = BTreeSet::new();
                while child.try_wait().unwrap().is_none() && seen.len() < n {
                    for r in list(out.path()) {
                        if is_hidden_temp(&r) && !temps_before.contains(&r) {
                            seen.insert(r);
                        }
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        if child.try_wait().unwrap().is_none() {
            killed_while_running += 1;
        }
        let _ = child.kill();
        child.wait().unwrap();
        let (temps, replaced) = check_old_or_new(out.path(), &old, &new, &unrelated);
        temps_left = temps.len();
        replaced_after_kill.push(replaced);
    }
    eprintln!(
        "interrupted {killed_while_running} of {plan_len} runs; outputs already replaced after \
         each kill: {replaced_after_kill:?}; {temps_left} hidden temporary files left"
    );
    assert!(killed_while_running > 0, "no run was interrupted");

    // A complete run afterwards replaces every output; leftovers of killed runs can only be
    // hidden temporary files.
    let o = Command::new(BIN)
        .args(args(big.path(), out.path()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    check_old_or_new(out.path(), &old, &new, &unrelated);
    let now = snapshot(out.path());
    for (rel, bytes) in &new {
        if rel != Path::new("run.json") {
            assert_eq!(now.get(rel), Some(bytes), "{} not replaced", rel.display());
        }
    }
}

#[test]
fn rerun_into_existing_folder_leaves_unrelated_files_alone() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    write(&input.path().join("r.txt"), sample(SAMPLES[1]));
    let mine: BTreeMap<PathBuf, Vec<u8>> = [
        (PathBuf::from("analysis.R"), b"library(readr)\n".to_vec()),
        (PathBuf::from(".hidden"), b"x".to_vec()),
        (
            PathBuf::from("summaries/notes.md"),
            b"# my notes\n".to_vec(),
        ),
        (PathBuf::from("documents.csv.bak"), b"a,b\n1,2\n".to_vec()),
    ]
    .into();
    for (rel, b) in &mine {
        write(&out.path().join(rel), b);
    }
    for _ in 0..2 {
        let o = run_folder(input.path(), out.path());
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let now = snapshot(out.path());
    for (rel, b) in &mine {
        assert_eq!(now.get(rel), Some(b), "{} changed", rel.display());
    }
    assert!(
        !now.keys().any(|r| is_hidden_temp(r)),
        "temporary files left by a complete run"
    );
    assert_eq!(statuses(out.path())["r.txt"].0, "ok");
}

/// Runs a command expected to be refused: exit code 2, one line on stderr, which is returned.
fn refused(args: &[&str]) -> String {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

#[test]
fn malformed_pipeline_files_are_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("reports/r.txt"), sample(SAMPLES[0]));
    let cases = [
        (
            "unterminated.toml",
            "input = \"reports\noutput = \"out\"\n",
            "line 1",
        ),
        (
            "wrong_type.toml",
            "input = \"reports\"\noutput = \"out\"\nthreads = \"two\"\n",
            "line 3",
        ),
        ("binary.toml", "\u{0}\u{1}\u{2}", "line 1"),
    ];
    for (name, text, line) in cases {
        let p = dir.path().join(name);
        write(&p, text);
        let err = refused(&["run", s(&p)]);
        assert!(
            err.contains(&format!("pipeline file {}", p.display())),
            "{err}"
        );
        assert!(err.contains(line), "{err}");
        assert!(!dir.path().join("out").exists(), "{name}: output written");
    }
    let err = refused(&["run", s(&dir.path().join("missing.toml"))]);
    assert!(
        err.contains("missing.toml") && err.contains("check the path"),
        "{err}"
    );
}

#[test]
fn malformed_or_missing_codebook_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("reports/r.txt"), sample(SAMPLES[0]));
    let input = dir.path().join("reports");
    let out = dir.path().join("out");

    let missing = dir.path().join("no-such-codebook.toml");
    let err = refused(&[
        "run",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--codebook",
        s(&missing),
    ]);
    assert!(
        err.contains(&format!("cannot read codebook {}", missing.display())),
        "{err}"
    );
    assert!(err.contains("--codebook"), "{err}");

    // A codebook with a semantic mistake: the heading line names the file, then the problem.
    let bad = dir.path().join("cb.toml");
    write(
        &bad,
        "[[theme]]\nid = \"a\"\nlabel = \"A\"\nterms = [\"x\"]\nunless = [\"zz\"]\n",
    );
    let o = run(&[
        "run",
        "--input",
        s(&input),
        "--output",
        s(&out),
        "--codebook",
        s(&bad),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let first = err.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("error: codebook {}", bad.display())),
        "{err}"
    );
    assert!(first.contains("fix them"), "{err}");
    assert!(err.contains("line 5") && err.contains("zz"), "{err}");
    assert!(!out.exists(), "output written despite a bad codebook");
}

#[test]
fn codebook_syntax_error_is_one_problem_line() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("reports/r.txt"), sample(SAMPLES[0]));
    let bad = dir.path().join("cb.toml");
    write(&bad, "[[theme]]\nid = \"a\"\nlabel = \n");
    let out = dir.path().join("out");
    let o = run(&[
        "run",
        "--input",
        s(&dir.path().join("reports")),
        "--output",
        s(&out),
        "--codebook",
        s(&bad),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!out.exists());
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].contains(&bad.display().to_string()), "{err}");
    assert!(lines.len() >= 2, "{err}");
    for l in &lines[1..] {
        assert!(
            l.starts_with(&format!("  {}: line ", bad.display())),
            "problem line without file and line: {l:?} in {err}"
        );
    }
}

#[test]
fn input_that_is_a_file_or_missing_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.txt");
    write(&file, sample(SAMPLES[0]));
    let out = dir.path().join("out");
    let err = refused(&["run", "--input", s(&file), "--output", s(&out)]);
    assert!(
        err.contains(&format!("input {} is not a folder", file.display())),
        "{err}"
    );
    assert!(err.contains("--input DIR"), "{err}");
    assert!(!out.exists());

    // A missing folder named in a pipeline file is resolved against the file and named in full.
    let p = dir.path().join("p.toml");
    write(&p, "input = \"nowhere\"\noutput = \"out\"\n");
    let err = refused(&["run", s(&p)]);
    assert!(
        err.contains(&format!(
            "input folder {} cannot be read",
            dir.path().join("nowhere").display()
        )),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn output_under_a_regular_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("reports/r.txt"), sample(SAMPLES[0]));
    let blocker = dir.path().join("blocker");
    write(&blocker, b"a regular file");
    for target in [blocker.join("out"), blocker.clone()] {
        let err = refused(&[
            "run",
            "--input",
            s(&dir.path().join("reports")),
            "--output",
            s(&target),
            "--quiet",
        ]);
        assert!(err.contains(&target.display().to_string()), "{err}");
        assert!(err.contains("choose a writable --output DIR"), "{err}");
        assert_eq!(fs::read(&blocker).unwrap(), b"a regular file");
    }
    let mut left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    assert_eq!(left, ["blocker", "reports"], "nothing else written");
}
