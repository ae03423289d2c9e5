//! Snapshot tests: the tables and summaries of the sample corpus, pinned so that any change
//! to the codebook, lexicon or stages shows up in review as a diff of what users get.
//! Update with `INSTA_UPDATE=always cargo test --test snapshots` after checking the diff.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ofsted-themes");

#[test]
fn sample_outputs() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["run", "pipelines/default.toml", "--quiet", "--output"])
        .arg(out.path())
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |name: &str| std::fs::read_to_string(out.path().join(name)).unwrap();
    insta::assert_snapshot!("documents.csv", read("documents.csv"));
    insta::assert_snapshot!("themes_by_year.csv", read("themes_by_year.csv"));
    insta::assert_snapshot!(
        "themes_by_authority_year.csv",
        read("themes_by_authority_year.csv")
    );
    insta::assert_snapshot!("themes_by_document.csv", read("themes_by_document.csv"));
    insta::assert_snapshot!("summary.md", read("summary.md"));
    insta::assert_snapshot!("summaries_wirral.md", read("summaries/wirral.md"));
}
