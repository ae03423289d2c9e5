//! Pipeline files: which reports to read, which codebook and lexicon to use, where to write.
//!
//! A pipeline is a small TOML file (`pipelines/default.toml`). Unknown keys are errors naming
//! the file, line and column. Relative paths are resolved against the pipeline file's folder.
//! Command-line flags override the file; with no file, the bundled codebook, lexicon and
//! authority table are used.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::codebook::line_of;

/// A pipeline file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// A name shown in `run.json` and the summary.
    pub name: Option<String>,
    /// Folder of reports (searched recursively).
    pub input: Option<PathBuf>,
    /// Folder the outputs are written to.
    pub output: Option<PathBuf>,
    /// Codebook TOML file.
    pub codebook: Option<PathBuf>,
    /// Stance lexicon TOML file.
    pub lexicon: Option<PathBuf>,
    /// Authority reference CSV.
    pub authorities: Option<PathBuf>,
    /// Section headings and abbreviations TOML.
    pub sections: Option<PathBuf>,
    /// Worker threads; 0 or absent means one per core.
    pub threads: Option<usize>,
    /// Also write every table as Parquet.
    pub parquet: Option<bool>,
    /// Draw the PNG charts.
    pub charts: Option<bool>,
    /// Agreement figures to quote in the summary (an `evaluate` output folder's `summary.csv`).
    pub evaluation: Option<PathBuf>,
}

/// Settings after the file and the flags are combined.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    pub pipeline_file: Option<PathBuf>,
    pub input: PathBuf,
    pub output: PathBuf,
    pub codebook: Option<PathBuf>,
    pub lexicon: Option<PathBuf>,
    pub authorities: Option<PathBuf>,
    pub sections: Option<PathBuf>,
    pub threads: usize,
    pub parquet: bool,
    pub charts: bool,
    pub evaluation: Option<PathBuf>,
}

/// Overrides given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub input: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub codebook: Option<PathBuf>,
    pub threads: Option<usize>,
    pub parquet: bool,
}

impl PipelineFile {
    /// Read a pipeline file; errors name the file, line and column.
    pub fn load(path: &Path) -> anyhow::Result<PipelineFile> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read pipeline file {}: {e}; check the path",
                path.display()
            )
        })?;
        Self::parse(&text, path)
    }

    /// Parse pipeline text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<PipelineFile> {
        toml::from_str(text).map_err(|e| {
            let (line, col) = match e.span() {
                Some(s) => {
                    let line = line_of(text, s.start);
                    let line_start = text[..s.start.min(text.len())]
                        .rfind('\n')
                        .map_or(0, |i| i + 1);
                    (
                        line,
                        text[line_start..s.start.min(text.len())].chars().count() + 1,
                    )
                }
                None => (0, 0),
            };
            anyhow::anyhow!(
                "pipeline file {} line {line} column {col}: {}; fix it and run again",
                path.display(),
                crate::codebook::one_line(e.message())
            )
        })
    }
}

/// Remove `dir/..` pairs from a relative path, so that `pipelines/../data/x` reads `data/x`.
fn tidy(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

impl Settings {
    /// Combine a pipeline file (if any) with command-line overrides.
    pub fn resolve(pipeline: Option<&Path>, over: Overrides) -> anyhow::Result<Settings> {
        let (file, base) = match pipeline {
            Some(p) => (
                PipelineFile::load(p)?,
                p.parent().map(Path::to_path_buf).unwrap_or_default(),
            ),
            None => (PipelineFile::default(), PathBuf::new()),
        };
        let rel = |p: Option<PathBuf>| {
            p.map(|p| {
                if p.is_absolute() {
                    p
                } else {
                    tidy(&base.join(p))
                }
            })
        };
        let input = over.input.or_else(|| rel(file.input.clone())).ok_or_else(|| {
            anyhow::anyhow!("no input folder: give a pipeline file with `input = \"...\"` or pass --input DIR")
        })?;
        let output = over.output.or_else(|| rel(file.output.clone())).ok_or_else(|| {
            anyhow::anyhow!("no output folder: give a pipeline file with `output = \"...\"` or pass --output DIR")
        })?;
        let name = file
            .name
            .clone()
            .or_else(|| {
                pipeline
                    .and_then(|p| p.file_stem())
                    .map(|s| s.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "run".into());
        Ok(Settings {
            name,
            pipeline_file: pipeline.map(Path::to_path_buf),
            input,
            output,
            codebook: over.codebook.or_else(|| rel(file.codebook.clone())),
            lexicon: rel(file.lexicon.clone()),
            authorities: rel(file.authorities.clone()),
            sections: rel(file.sections.clone()),
            threads: over.threads.or(file.threads).unwrap_or(0),
            parquet: over.parquet || file.parquet.unwrap_or(false),
            charts: file.charts.unwrap_or(true),
            evaluation: rel(file.evaluation.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_line_and_column() {
        let err = PipelineFile::parse("input = \"a\"\n  outptu = \"b\"\n", Path::new("p.toml"))
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("pipeline file p.toml line 2 column 3:"),
            "{msg}"
        );
        assert!(msg.contains("outptu"), "{msg}");
    }

    #[test]
    fn flags_override_and_paths_are_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.toml");
        std::fs::write(&p, "input = \"reports\"\noutput = \"out\"\nthreads = 3\n").unwrap();
        let s = Settings::resolve(
            Some(&p),
            Overrides {
                output: Some("elsewhere".into()),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(s.input, dir.path().join("reports"));
        assert_eq!(s.output, PathBuf::from("elsewhere"));
        assert_eq!(s.threads, 3);
        assert_eq!(s.name, "x");
    }

    #[test]
    fn paths_are_tidied() {
        assert_eq!(
            tidy(Path::new("pipelines/../data/x.toml")),
            PathBuf::from("data/x.toml")
        );
        assert_eq!(
            tidy(Path::new("../shared/./a")),
            PathBuf::from("../shared/a")
        );
        assert_eq!(tidy(Path::new("a/..")), PathBuf::from("."));
    }

    #[test]
    fn no_file_needs_input_and_output() {
        let err = Settings::resolve(None, Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("--input DIR"));
    }
}
