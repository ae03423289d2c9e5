//! Arbitrary bytes through every per-document stage, as `pipeline::process_file` runs them:
//! decode -> normalise -> metadata -> segment -> tag -> stance, with the invariants the
//! output tables rely on checked along the way.
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use ofsted_themes::ingest::{self, Loaded};
use ofsted_themes::pipeline::Resources;
use ofsted_themes::tag::{Tagger, Workspace};
use ofsted_themes::{metadata, normalise, segment};

fn resources() -> &'static Resources {
    static RES: OnceLock<Resources> = OnceLock::new();
    RES.get_or_init(|| Resources::load(None, None, None).expect("bundled resources load"))
}

fn workspace() -> &'static Mutex<Workspace> {
    static WS: OnceLock<Mutex<Workspace>> = OnceLock::new();
    WS.get_or_init(|| Mutex::new(Workspace::default()))
}

fuzz_target!(|data: &[u8]| {
    let res = resources();
    let text = match ingest::decode(data) {
        Loaded::Text { text, .. } => text,
        Loaded::Skipped(why) | Loaded::Failed(why) => {
            assert!(!why.is_empty());
            return;
        }
    };
    let clean = normalise::normalise(&text);
    for b in &clean.blocks {
        assert!(b.source_start <= b.source_end && b.source_end <= text.len());
    }
    let meta = metadata::extract(&text, &clean, &res.authorities);
    let _ = meta.year();
    let _ = meta.judgements_string();
    let findings = segment::segment(&clean);
    let _ = clean.word_count();
    for (i, f) in findings.iter().enumerate() {
        assert_eq!(f.id as usize, i + 1);
        assert!(!f.text.trim().is_empty(), "empty finding {f:?}");
        assert!(f.source_start < text.len(), "source_start outside the text");
        assert!(text.is_char_boundary(f.source_start));
        if i > 0 {
            assert!(findings[i - 1].source_start <= f.source_start);
        }
    }
    let mut guard = workspace().lock().unwrap_or_else(|e| e.into_inner());
    let ws = &mut *guard;
    let tagged = res.tagger.tag_document(
        findings
            .iter()
            .map(|f| (f.id, f.source_start, f.text.as_str())),
        ws,
    );
    assert_eq!(tagged.len(), findings.len());
    for (finding, tg) in findings.iter().zip(&tagged) {
        let stances = res.stance.read_tagged(finding, tg, ws);
        assert_eq!(stances.len(), tg.hits.len());
        for hit in &tg.hits {
            for &(s, e) in &hit.spans {
                assert!(
                    s < e && e <= tg.tokens.len(),
                    "span {s}..{e} outside tokens"
                );
                // The slices `kwic.csv` takes around each match.
                let left = s.saturating_sub(6);
                let right = (e + 6).min(tg.tokens.len());
                let _ = &finding.text[tg.tokens[left].start..tg.tokens[s].start];
                let _ = &finding.text[tg.tokens[e - 1].end..tg.tokens[right - 1].end];
                let _ = &finding.text[tg.tokens[s].start..tg.tokens[e - 1].end];
            }
            for m in Tagger::matched_words(&finding.text, &tg.tokens, &hit.spans) {
                assert!(finding.text.contains(&m));
            }
        }
        for st in &stances {
            for c in &st.cues {
                assert!(
                    finding.text.contains(c.as_str()),
                    "cue {c:?} not in {:?}",
                    finding.text
                );
            }
        }
    }
});
