//! `evaluate` on the hand-coded sample reports: a regression guard on the tagger's agreement
//! with hand coding, and a check that its tables are written.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ofsted-themes");

/// The required-theme macro F1 reached on `data/gold`; a drop below it fails the build.
const REQUIRED_MACRO_F1_FLOOR: &str = "0.90";

#[test]
fn evaluate_on_the_sample_gold_holds_its_figures() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["evaluate", "--gold", "data/gold", "--output"])
        .arg(out.path())
        .args(["--min-f1", REQUIRED_MACRO_F1_FLOOR])
        .current_dir(&repo)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "evaluate fell below {REQUIRED_MACRO_F1_FLOOR}:\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("alignment: 900 gold findings"), "{stdout}");
    assert!(stdout.contains("metadata accuracy 1.0000"), "{stdout}");
    for f in [
        "themes.csv",
        "errors.csv",
        "stance_confusion.csv",
        "metadata_mismatches.csv",
        "summary.csv",
    ] {
        assert!(out.path().join(f).is_file(), "{f} missing");
    }
}

#[test]
fn min_f1_above_the_score_exits_one() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args([
            "evaluate",
            "--gold",
            "data/gold",
            "--min-f1",
            "1.01",
            "--output",
        ])
        .arg(out.path())
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

/// The agreement figures the default pipeline quotes in its summary are the ones `evaluate`
/// gives now: regenerate `data/evaluation/agreement.csv` when the codebook or lexicon changes.
#[test]
fn quoted_agreement_figures_are_current() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["evaluate", "--gold", "data/gold", "--output"])
        .arg(out.path())
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(o.status.success());
    let now = std::fs::read_to_string(out.path().join("summary.csv")).unwrap();
    let quoted = std::fs::read_to_string(repo.join("data/evaluation/agreement.csv")).unwrap();
    assert_eq!(
        quoted,
        now,
        "data/evaluation/agreement.csv is stale: copy {}/summary.csv over it",
        out.path().display()
    );
}

/// Splits the sample gold into two folders by document: scored together with repeated
/// `--gold`/`--input` pairs, they give exactly the figures of the whole folder.
#[test]
fn gold_sets_scored_together_pool_their_documents() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let parts = tempfile::tempdir().unwrap();
    let (a, b) = (parts.path().join("a"), parts.path().join("b"));
    for file in ["findings.csv", "metadata.csv"] {
        let text = std::fs::read_to_string(repo.join("data/gold").join(file)).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let (mut first, mut rest) = (vec![header], vec![header]);
        for line in lines {
            // Documents are named 000_..., 001_...: the first two go to one folder.
            if line.starts_with("000_") || line.starts_with("001_") {
                first.push(line);
            } else {
                rest.push(line);
            }
        }
        assert!(
            first.len() > 1 && rest.len() > 1,
            "{file}: both parts hold documents"
        );
        for (dir, lines) in [(&a, first), (&b, rest)] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(file), lines.join("\n") + "\n").unwrap();
        }
    }
    // `evaluate` with `--gold G` for each pair, followed by `--input I` where one is given.
    let run = |pairs: &[(&std::path::Path, Option<&str>)]| {
        let out = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg("evaluate");
        for (gold, input) in pairs {
            cmd.arg("--gold").arg(gold);
            if let Some(input) = input {
                cmd.args(["--input", input]);
            }
        }
        let o = cmd
            .arg("--output")
            .arg(out.path())
            .current_dir(&repo)
            .output()
            .unwrap();
        (out, o)
    };
    let reports = Some("data/reports");
    let (whole, o) = run(&[("data/gold".as_ref(), None)]);
    assert!(o.status.success());
    let (pooled, o) = run(&[(&a, reports), (&b, reports)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in ["summary.csv", "themes.csv", "stance_confusion.csv"] {
        assert_eq!(
            std::fs::read_to_string(pooled.path().join(f)).unwrap(),
            std::fs::read_to_string(whole.path().join(f)).unwrap(),
            "{f}"
        );
    }

    // The same document twice, or a --gold without its --input, is refused with a reason.
    let (_, o) = run(&[(&a, reports), (&a, reports)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("already in an earlier gold folder"),
        "{err}"
    );
    let (_, o) = run(&[(&a, None), (&b, reports)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("one --input per --gold"),
        "{err}"
    );
}
