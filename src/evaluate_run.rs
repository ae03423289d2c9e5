//! Run the pipeline on the reports a gold set names, and shape the results for
//! [`crate::evaluate`]: the bridge between the pipeline's types and the evaluator's.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;

use crate::evaluate::{GoldSet, PredictedDoc, PredictedFinding};
use crate::ingest::InputFile;
use crate::model::{iso_date, Status};
use crate::pipeline::{process_file, DocResult, Resources};
use crate::tag::Workspace;

/// The metadata fields compared with the gold, as strings ("" when missing).
pub fn metadata_fields(d: &DocResult) -> BTreeMap<String, String> {
    let m = &d.metadata;
    [
        ("authority", m.authority_name().to_string()),
        ("la_code", m.la_code().to_string()),
        ("visit_type", m.visit_type_str().to_string()),
        ("visit_start", iso_date(m.visit_start)),
        ("visit_end", iso_date(m.visit_end)),
        ("published", iso_date(m.published)),
        ("year", m.year_text()),
        ("judgements", m.judgements_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The report a gold document names in `input`: the file of that name, else the same name
/// with another extension the pipeline reads (gold coded from a text extraction can then be
/// scored against the original PDFs, read in-process).
fn report_path(input: &Path, name: &str) -> std::path::PathBuf {
    let exact = input.join(name);
    if exact.exists() {
        return exact;
    }
    crate::ingest::EXTENSIONS
        .iter()
        .map(|ext| exact.with_extension(ext))
        .find(|p| p.exists())
        .unwrap_or(exact)
}

/// Process each document the gold names (from `input`), in parallel, in gold order.
pub fn run(gold: &GoldSet, input: &Path, res: &Resources) -> anyhow::Result<Vec<PredictedDoc>> {
    let mut names: Vec<String> = gold.findings.iter().map(|f| f.document.clone()).collect();
    names.extend(gold.metadata.iter().map(|m| m.document.clone()));
    names.sort();
    names.dedup();
    let files: Vec<InputFile> = names
        .iter()
        .map(|n| InputFile {
            rel: n.clone(),
            path: report_path(input, n),
            walk_error: None,
        })
        .collect();
    let docs: Vec<DocResult> = files
        .par_iter()
        .map_init(Workspace::default, |ws, f| process_file(f, res, ws, true))
        .collect();
    let mut out = Vec::new();
    for d in docs {
        if d.status != Status::Ok {
            eprintln!("{}: {}: {}", d.status, d.path.display(), d.message);
        }
        out.push(PredictedDoc {
            document: d.rel.clone(),
            source: d.source.clone().unwrap_or_default(),
            metadata: metadata_fields(&d),
            findings: d
                .findings
                .iter()
                .map(|f| PredictedFinding {
                    finding_id: f.finding.id,
                    text: f.finding.text.clone(),
                    labels: f.tags.iter().map(|t| (t.theme.clone(), t.stance)).collect(),
                })
                .collect(),
        });
    }
    Ok(out)
}
