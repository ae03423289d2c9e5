//! Ingest: find every file under the input folder and read it as text.
//!
//! The folder is walked recursively in sorted order; every file found becomes one
//! [`InputFile`], and every problem met on the way (an unreadable folder, a symbolic link
//! loop) becomes one too, so that each is accounted for in `documents.csv`. Plain text is read
//! as UTF-8 (a byte-order mark is honoured, UTF-16 included), falling back to Windows-1252;
//! PDFs are read in-process ([`crate::pdf`]), within a time limit.

use std::path::{Path, PathBuf};

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};
use sha2::{Digest, Sha256};

/// Largest file read; anything bigger is skipped as not a report.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// One entry found under the input folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Path relative to the input folder, with `/` separators.
    pub rel: String,
    pub path: PathBuf,
    /// Set when the walk itself could not read this entry.
    pub walk_error: Option<String>,
}

/// The outcome of reading one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// Decoded text, and the encoding it was read with.
    Text {
        text: String,
        encoding: &'static str,
        /// The file's size in bytes.
        bytes: u64,
    },
    /// Not a report (unsupported type, empty, binary): the reason.
    Skipped(String),
    /// Could not be read: the reason.
    Failed(String),
}

/// List every file under `root`, sorted by path. Errors only when `root` itself is unusable.
pub fn discover(root: &Path) -> anyhow::Result<Vec<InputFile>> {
    let meta = std::fs::metadata(root).map_err(|e| {
        anyhow::anyhow!(
            "input folder {} cannot be read: {e}; pass an existing folder with --input DIR",
            root.display()
        )
    })?;
    if !meta.is_dir() {
        anyhow::bail!(
            "input {} is not a folder; pass a folder of reports with --input DIR",
            root.display()
        );
    }
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walker {
        match entry {
            Ok(e) => {
                if e.file_type().is_dir() {
                    continue;
                }
                out.push(InputFile {
                    rel: rel_path(root, e.path()),
                    path: e.path().to_path_buf(),
                    walk_error: None,
                });
            }
            Err(err) => {
                let path = err
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                let message = if err.loop_ancestor().is_some() {
                    "symbolic link loop; not followed".to_string()
                } else {
                    match err.io_error() {
                        Some(io) => format!("cannot read: {io}"),
                        None => format!("cannot read: {err}"),
                    }
                };
                out.push(InputFile {
                    rel: rel_path(root, &path),
                    path,
                    walk_error: Some(message),
                });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.dedup_by(|a, b| a.rel == b.rel);
    Ok(out)
}

fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string())
    } else {
        parts.join("/")
    }
}

/// The lowercase extension of a path, if any.
pub fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// The file extensions a report is read from (lower case): PDF first, then the text forms.
pub const EXTENSIONS: [&str; 4] = ["pdf", "txt", "text", "md"];

/// [`EXTENSIONS`] as a user reads them: ".pdf, .txt, .text or .md".
fn extension_list() -> String {
    let dotted: Vec<String> = EXTENSIONS.iter().map(|e| format!(".{e}")).collect();
    match dotted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Read one file, with the SHA-256 of its bytes (empty when it was not read).
/// Never panics; every outcome carries a reason a user can act on.
pub fn load(file: &InputFile) -> (Loaded, String) {
    if let Some(e) = &file.walk_error {
        return (Loaded::Failed(e.clone()), String::new());
    }
    let ext = extension(&file.path);
    match ext.as_deref() {
        Some("pdf") => return load_pdf(file),
        Some(e) if EXTENSIONS.contains(&e) => {}
        Some(other) => {
            return skipped(format!(
                "unsupported file type '.{other}'; only {} reports are read",
                extension_list()
            ))
        }
        None => {
            return skipped(format!(
                "no file extension; only {} reports are read",
                extension_list()
            ))
        }
    }
    let bytes = match read_bounded(file) {
        Ok(b) => b,
        Err(l) => return (l, String::new()),
    };
    let sha = crate::pipeline::hex(&Sha256::digest(&bytes));
    (decode(&bytes), sha)
}

/// Longest time one PDF may take to read before it is given up as failed.
pub const PDF_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Read a PDF's text in-process. Image-only PDFs are skipped (no report text); encrypted,
/// truncated, unreadable or too slow ones fail.
fn load_pdf(file: &InputFile) -> (Loaded, String) {
    let bytes = match read_bounded(file) {
        Ok(b) => b,
        Err(l) => return (l, String::new()),
    };
    let sha = crate::pipeline::hex(&Sha256::digest(&bytes));
    let loaded = match crate::pdf::extract_text(&bytes, PDF_TIME_LIMIT) {
        Ok(text) => Loaded::Text {
            text,
            encoding: "pdf",
            bytes: bytes.len() as u64,
        },
        Err(p @ crate::pdf::PdfProblem::ImageOnly) => Loaded::Skipped(p.to_string()),
        Err(p) => Loaded::Failed(p.to_string()),
    };
    (loaded, sha)
}

/// Read a file's bytes, refusing ones over the size limit.
fn read_bounded(file: &InputFile) -> Result<Vec<u8>, Loaded> {
    let meta =
        std::fs::metadata(&file.path).map_err(|e| Loaded::Failed(format!("cannot read: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Loaded::Skipped(format!(
            "file is {} MB, larger than the {} MB limit for one report",
            meta.len() / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    std::fs::read(&file.path).map_err(|e| Loaded::Failed(format!("cannot read: {e}")))
}

fn skipped(why: String) -> (Loaded, String) {
    (Loaded::Skipped(why), String::new())
}

/// Decode file bytes as text: BOM first, then UTF-8, then Windows-1252.
pub fn decode(bytes: &[u8]) -> Loaded {
    let content = bytes
        .strip_prefix(&[0xEF, 0xBB, 0xBF])
        .or_else(|| bytes.strip_prefix(&[0xFF, 0xFE]))
        .or_else(|| bytes.strip_prefix(&[0xFE, 0xFF]))
        .unwrap_or(bytes);
    if content.iter().all(|b| b.is_ascii_whitespace()) {
        return Loaded::Skipped("empty file".into());
    }
    let (text, encoding) = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        (String::from_utf8_lossy(rest).into_owned(), "utf-8")
    } else if bytes.starts_with(&[0xFF, 0xFE]) {
        let (t, _, _) = UTF_16LE.decode(bytes);
        (t.into_owned(), "utf-16le")
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        let (t, _, _) = UTF_16BE.decode(bytes);
        (t.into_owned(), "utf-16be")
    } else if looks_binary(bytes) {
        return Loaded::Skipped("binary content, not text".into());
    } else {
        match std::str::from_utf8(bytes) {
            Ok(s) => (s.to_string(), "utf-8"),
            Err(_) => {
                let (t, _, _) = WINDOWS_1252.decode(bytes);
                (t.into_owned(), "windows-1252")
            }
        }
    };
    if looks_binary(text.as_bytes()) {
        return Loaded::Skipped("binary content, not text".into());
    }
    Loaded::Text {
        text,
        encoding,
        bytes: bytes.len() as u64,
    }
}

/// NUL bytes or many control characters in the first 8 KB mean binary content.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return true;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C))
        .count();
    control * 20 > head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(l: Loaded) -> (String, &'static str) {
        match l {
            Loaded::Text { text, encoding, .. } => (text, encoding),
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn windows_1252_pound_and_curly_quotes() {
        let bytes = b"Spending of \xA3200 on \x93early help\x94 isn\x92t enough.";
        let (t, enc) = text(decode(bytes));
        assert_eq!(t, "Spending of £200 on “early help” isn’t enough.");
        assert_eq!(enc, "windows-1252");
    }

    #[test]
    fn utf8_and_bom() {
        assert_eq!(text(decode("£ “x”".as_bytes())).0, "£ “x”");
        assert_eq!(text(decode(b"\xEF\xBB\xBFhello")).0, "hello");
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "Report £".encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        let (t, enc) = text(decode(&bytes));
        assert_eq!((t.as_str(), enc), ("Report £", "utf-16le"));
    }

    #[test]
    fn empty_and_binary_are_skipped() {
        assert_eq!(decode(b""), Loaded::Skipped("empty file".into()));
        assert_eq!(decode(b" \n\n "), Loaded::Skipped("empty file".into()));
        assert_eq!(
            decode(b"\xEF\xBB\xBF\n"),
            Loaded::Skipped("empty file".into())
        );
        assert_eq!(
            decode(&[0x89, b'P', b'N', b'G', 0, 0, 1, 2]),
            Loaded::Skipped("binary content, not text".into())
        );
    }
}
