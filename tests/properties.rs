//! Properties of the per-document stages on arbitrary text: random strings mixed with
//! slices and splices of the sample reports in `data/reports/`.
//!
//! - normalise and segment never panic; findings are non-empty, point inside the source, come
//!   in source order and are numbered 1..n;
//! - tagging and stance reading never panic, and every matched word and cue occurs in its
//!   finding;
//! - the word count agrees with `split_whitespace` on any text, Unicode spaces included;
//! - through `process_file`, `report::facts` and `aggregate::build`, the aggregate tables add
//!   up to the tags.

use std::path::PathBuf;
use std::sync::LazyLock;

use proptest::prelude::*;

use ofsted_themes::aggregate;
use ofsted_themes::ingest::{self, InputFile, Loaded};
use ofsted_themes::model::{Finding, Stance, Status};
use ofsted_themes::output::frame_csv;
use ofsted_themes::pipeline::{self, Resources, RunResult, RunStats};
use ofsted_themes::report;
use ofsted_themes::tag::{Tagger, Workspace};
use ofsted_themes::{metadata, normalise, segment};

static RES: LazyLock<Resources> =
    LazyLock::new(|| Resources::load(None, None, None).expect("bundled resources"));

static REPORTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/reports");
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
});

/// The largest char boundary of `s` at or below `i`.
fn floor(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A slice of a sample report: report index, start and length as fractions of its size.
fn fragment() -> impl Strategy<Value = String> {
    (0..5usize, 0.0..1.0f64, 0usize..6000).prop_map(|(r, at, len)| {
        let text = &REPORTS[r];
        let a = floor(text, (at * text.len() as f64) as usize);
        let b = floor(text, a + len);
        text[a..b].to_string()
    })
}

/// Text made of the characters reports are made of, line breaks and typography included.
fn report_like_noise() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "[A-Za-z0-9 .,;:'\"()\\-\\n\\r\\t•*#£“”’–—\u{a0}\u{c}\u{2028}?!/&%]{0,600}",
    )
    .unwrap()
}

fn arbitrary_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        report_like_noise(),
        fragment(),
        proptest::collection::vec(
            prop_oneof![fragment(), report_like_noise(), any::<String>()],
            1..5
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// A whole sample report with a few random edits: deletions, insertions of noise, and
/// pieces of other reports spliced in.
fn edited_report() -> impl Strategy<Value = String> {
    let edit = (
        0.0..1.0f64,
        0usize..400,
        prop_oneof![fragment(), report_like_noise()],
    );
    (0..5usize, proptest::collection::vec(edit, 0..4)).prop_map(|(r, edits)| {
        let mut text = REPORTS[r].clone();
        for (at, cut, insert) in edits {
            let a = floor(&text, (at * text.len() as f64) as usize);
            let b = floor(&text, a + cut);
            text.replace_range(a..b, &insert);
        }
        text
    })
}

/// The checks on findings that the output tables rely on.
fn check_findings(source: &str, findings: &[Finding]) -> Result<(), TestCaseError> {
    for (i, f) in findings.iter().enumerate() {
        prop_assert_eq!(f.id as usize, i + 1, "ids are 1..n");
        prop_assert!(!f.text.trim().is_empty(), "empty finding {:?}", f);
        prop_assert!(
            f.source_start < source.len() && source.is_char_boundary(f.source_start),
            "source_start {} outside the source ({} bytes)",
            f.source_start,
            source.len()
        );
        if i > 0 {
            prop_assert!(
                findings[i - 1].source_start <= f.source_start,
                "findings out of order at {}",
                f.id
            );
        }
    }
    Ok(())
}

/// Tag and read the stance of every finding, checking that the words shown are in it.
fn check_tagging(findings: &[Finding], ws: &mut Workspace) -> Result<(), TestCaseError> {
    let res = &*RES;
    let tagged = res.tagger.tag_document(
        findings
            .iter()
            .map(|f| (f.id, f.source_start, f.text.as_str())),
        ws,
    );
    prop_assert_eq!(tagged.len(), findings.len());
    for (f, tg) in findings.iter().zip(&tagged) {
        let stances = res.stance.read_tagged(f, tg, ws);
        prop_assert_eq!(stances.len(), tg.hits.len());
        for hit in &tg.hits {
            for &(s, e) in &hit.spans {
                prop_assert!(s < e && e <= tg.tokens.len(), "span {}..{}", s, e);
            }
            prop_assert_eq!(hit.spans.is_empty(), hit.inherited_from.is_some());
            for m in Tagger::matched_words(&f.text, &tg.tokens, &hit.spans) {
                prop_assert!(f.text.contains(&m), "matched {:?} not in {:?}", m, f.text);
            }
        }
        for st in &stances {
            for c in &st.cues {
                prop_assert!(
                    f.text.contains(c.as_str()),
                    "cue {:?} not in {:?}",
                    c,
                    f.text
                );
            }
        }
    }
    Ok(())
}

/// Every per-document stage on raw bytes, as `pipeline::process_file` runs them (the same
/// stages as the fuzz target in `tests/fuzz/`; inputs it finds belong in a test calling this).
fn all_stages(bytes: &[u8]) -> Result<(), TestCaseError> {
    let text = match ingest::decode(bytes) {
        Loaded::Text { text, .. } => text,
        Loaded::Skipped(why) | Loaded::Failed(why) => {
            prop_assert!(!why.is_empty());
            return Ok(());
        }
    };
    let clean = normalise::normalise(&text);
    for b in &clean.blocks {
        prop_assert!(b.source_start <= b.source_end && b.source_end <= text.len());
    }
    let meta = metadata::extract(&text, &clean, &RES.authorities);
    let _ = (meta.year(), meta.judgements_string(), clean.word_count());
    let findings = segment::segment(&clean);
    check_findings(&text, &findings)?;
    check_tagging(&findings, &mut Workspace::default())
}

/// Column `name` of an aggregate table, summed.
fn column_sum(df: &polars::prelude::DataFrame, name: &str) -> u64 {
    let bytes = frame_csv(df).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let i = r.headers().unwrap().iter().position(|h| h == name).unwrap();
    r.records()
        .map(|rec| rec.unwrap()[i].parse::<u64>().unwrap())
        .sum()
}

fn columns_ending(df: &polars::prelude::DataFrame, suffix: &str) -> u64 {
    df.get_column_names()
        .iter()
        .filter(|c| c.as_str().ends_with(suffix))
        .map(|c| column_sum(df, c.as_str()))
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn word_count_is_the_number_of_whitespace_separated_words(
        text in "([ \t\n\u{0B}\u{0C}\r\u{85}\u{A0}\u{2003}\u{3000}]|[a-z.]|\\PC){0,60}"
    ) {
        prop_assert_eq!(
            ofsted_themes::model::count_words(&text),
            text.split_whitespace().count()
        );
    }

    #[test]
    fn findings_are_non_empty_in_order_and_inside_the_source(text in arbitrary_text()) {
        let clean = normalise::normalise(&text);
        for b in &clean.blocks {
            prop_assert!(b.source_start <= b.source_end && b.source_end <= text.len());
            prop_assert!(!b.text.contains('\n'), "block on several lines: {:?}", b.text);
        }
        let findings = segment::segment(&clean);
        check_findings(&text, &findings)?;
    }

    #[test]
    fn tagging_shows_only_words_of_the_finding(text in arbitrary_text()) {
        let findings = segment::segment(&normalise::normalise(&text));
        check_tagging(&findings, &mut Workspace::default())?;
    }

    #[test]
    fn every_stage_takes_arbitrary_bytes(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..2000),
            arbitrary_text().prop_map(String::into_bytes),
            arbitrary_text().prop_map(|t| {
                let mut b = vec![0xFF, 0xFE];
                for u in t.encode_utf16() {
                    b.extend(u.to_le_bytes());
                }
                b
            }),
        ]
    ) {
        all_stages(&bytes)?;
    }

    #[test]
    fn aggregates_add_up_to_the_tags(
        texts in proptest::collection::vec(prop_oneof![3 => edited_report(), 1 => arbitrary_text()], 1..4)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::default();
        let mut docs = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            let rel = format!("doc{i}.txt");
            let path = dir.path().join(&rel);
            std::fs::write(&path, t).unwrap();
            let file = InputFile { rel, path, walk_error: None };
            docs.push(pipeline::process_file(&file, &RES, &mut ws, false));
        }
        let run = RunResult { docs, stats: RunStats::default() };
        let facts = report::facts(&run, &RES);
        let ok = run.docs.iter().filter(|d| d.status == Status::Ok).count();
        prop_assert_eq!(facts.docs.len(), ok);
        let tags: Vec<_> = run
            .docs
            .iter()
            .filter(|d| d.status == Status::Ok)
            .flat_map(|d| d.findings.iter().flat_map(|f| &f.tags))
            .collect();
        prop_assert_eq!(facts.tags.len(), tags.len());
        let concerns = tags.iter().filter(|t| t.stance == Stance::Concern).count() as u64;
        let strengths = tags.iter().filter(|t| t.stance == Stance::Strength).count() as u64;

        let tables = aggregate::build(&facts.docs, &facts.tags, &RES.tagger.book.ids()).unwrap();
        let n = tags.len() as u64;
        prop_assert_eq!(column_sum(&tables.by_year, "findings"), n);
        prop_assert_eq!(column_sum(&tables.by_authority_year, "findings"), n);
        let by_stance: u64 = ["strength", "concern", "mixed", "neutral"]
            .iter()
            .map(|c| column_sum(&tables.by_year, c))
            .sum();
        prop_assert_eq!(by_stance, n);
        prop_assert_eq!(column_sum(&tables.by_authority_year, "concern"), concerns);
        prop_assert_eq!(column_sum(&tables.by_year, "strength"), strengths);
        prop_assert_eq!(tables.by_document.height(), ok);
        prop_assert_eq!(columns_ending(&tables.by_document, "_concern"), concerns);
        prop_assert_eq!(columns_ending(&tables.by_document, "_strength"), strengths);
    }
}
