//! The bundled codebook on real sentences: `tests/data/codebook_cases.toml` lists findings
//! from published reports with the themes each must and must not carry, and some stances.
//! Each finding is tagged on its own, as the first finding of a document, so only its own
//! words count.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use ofsted_themes::model::{Finding, Section};
use ofsted_themes::pipeline::Resources;
use ofsted_themes::tag::Workspace;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    text: String,
    #[serde(default)]
    has: Vec<String>,
    #[serde(default)]
    not: Vec<String>,
    #[serde(default)]
    stance: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Cases {
    case: Vec<Case>,
}

fn cases() -> Vec<Case> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/codebook_cases.toml");
    let text = std::fs::read_to_string(&path).expect("cases file");
    toml::from_str::<Cases>(&text).expect("cases parse").case
}

/// Theme id -> stance of every theme the bundled codebook gives `text`.
fn read(res: &Resources, ws: &mut Workspace, text: &str) -> BTreeMap<String, String> {
    let finding = Finding {
        id: 1,
        section: Section::Findings,
        bullet: false,
        text: text.to_string(),
        source_start: 0,
    };
    let tagged = res.tagger.tag_document([(1, 0, text)], ws);
    let tg = &tagged[0];
    let stances = res.stance.read_tagged(&finding, tg, ws);
    tg.hits
        .iter()
        .zip(stances)
        .map(|(h, st)| {
            (
                res.tagger.book.themes[h.theme].id.clone(),
                st.stance.as_str().to_string(),
            )
        })
        .collect()
}

#[test]
fn bundled_codebook_reads_real_sentences_as_the_guide_does() {
    let res = Resources::load(None, None, None).expect("bundled resources");
    let ids: Vec<&str> = res
        .tagger
        .book
        .themes
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    let mut ws = Workspace::default();
    let cases = cases();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        for id in case.has.iter().chain(&case.not).chain(case.stance.keys()) {
            assert!(ids.contains(&id.as_str()), "unknown theme {id:?} in a case");
        }
        let got = read(&res, &mut ws, &case.text);
        for id in &case.has {
            if !got.contains_key(id) {
                failures.push(format!("missing {id}: {:?} (got {got:?})", case.text));
            }
        }
        for id in &case.not {
            if got.contains_key(id) {
                failures.push(format!("unwanted {id}: {:?}", case.text));
            }
        }
        for (id, want) in &case.stance {
            if got.get(id) != Some(want) {
                failures.push(format!(
                    "{id} should be {want}, got {:?}: {:?}",
                    got.get(id),
                    case.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
