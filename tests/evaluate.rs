//! `evaluate` on the hand-coded sample reports: a regression guard on the tagger's agreement
//! with hand coding, and a check that its tables are written.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ofsted-themes");

/// The required-theme macro F1 reached on `data/gold`; a drop below it fails the build.
const REQUIRED_MACRO_F1_FLOOR: &str = "0.80";

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
