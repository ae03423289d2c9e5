//! Write: turn a run's results into files, each written to a temporary file in the output
//! folder and renamed into place, so an interrupted run never leaves a half-written file.
//!
//! Tables of the output contract (`documents.csv`, `findings.csv`, `tags.csv`, `kwic.csv`)
//! are streamed with the csv crate; aggregate DataFrames are written with fixed float
//! formatting (4 decimals) so the same input gives the same bytes.

use std::io::Write;
use std::path::Path;

use polars::prelude::*;

/// A hidden temporary file in the output folder, to be renamed into place when complete.
/// It is created readable as any file the user writes is (mode 0666 less the umask), not
/// private to the owner as temporary files usually are, since it becomes an output.
pub fn temp_file_in(dir: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".ofsted-themes-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot write in output folder {}: {e}; choose a writable --output DIR",
            dir.display()
        )
    })
}

/// Temporary files older than this are left over from an interrupted run.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Remove temporary files that an interrupted run left in the output folder (only ours, and
/// only ones untouched for an hour, so a run writing there now is not disturbed).
pub fn remove_stale_temp_files(dir: &Path) {
    let now = std::time::SystemTime::now();
    for entry in walkdir::WalkDir::new(dir)
        .max_depth(3)
        .into_iter()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy();
        if !(entry.file_type().is_file()
            && name.starts_with(".ofsted-themes-")
            && name.ends_with(".tmp"))
        {
            continue;
        }
        let old = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Write `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create output folder {}: {e}; choose a writable --output DIR",
            dir.display()
        )
    })?;
    let mut tmp = temp_file_in(dir)?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| anyhow::anyhow!("cannot move {} into place: {}", path.display(), e.error))?;
    Ok(())
}

/// A CSV writer with this project's conventions (LF line ends, minimal quoting).
pub fn csv_writer<W: Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(w)
}

/// [`csv_writer`] for a large file: rows are gathered in a 1 MiB buffer and written to `w`
/// a buffer at a time.
pub fn csv_file_writer<W: Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 20)
        .from_writer(w)
}

/// A CSV file built in memory, then written atomically.
pub struct CsvOut {
    w: csv::Writer<Vec<u8>>,
}

impl CsvOut {
    pub fn new(header: &[&str]) -> CsvOut {
        let mut w = csv_writer(Vec::new());
        // Writing to memory cannot fail.
        w.write_record(header).expect("in-memory csv");
        CsvOut { w }
    }

    pub fn row<I, T>(&mut self, fields: I)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.w.write_record(fields).expect("in-memory csv");
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_inner().expect("in-memory csv")
    }
}

/// A table of text cells with a header: one of the contract's row-level tables.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// The table as a DataFrame: text columns, except `numeric` ones as nullable integers.
    pub fn frame(&self, numeric: &[&str]) -> anyhow::Result<DataFrame> {
        let mut columns = Vec::with_capacity(self.header.len());
        for (i, name) in self.header.iter().enumerate() {
            let cells = self.rows.iter().map(|r| r[i].as_str());
            let column = if numeric.contains(&name.as_str()) {
                Column::new(
                    name.into(),
                    cells.map(|c| c.parse::<i64>().ok()).collect::<Vec<_>>(),
                )
            } else {
                Column::new(name.into(), cells.collect::<Vec<_>>())
            };
            columns.push(column);
        }
        Ok(DataFrame::new(self.rows.len(), columns)?)
    }
}

/// Format a float for tables: 4 decimals, empty for missing or not-a-number.
pub fn fmt_f64(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.4}"),
        _ => String::new(),
    }
}

fn cell(v: AnyValue) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::Float64(x) => fmt_f64(Some(x)),
        AnyValue::Float32(x) => fmt_f64(Some(x as f64)),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// A DataFrame as CSV bytes (header, then rows), floats with 4 decimals.
pub fn frame_csv(df: &DataFrame) -> anyhow::Result<Vec<u8>> {
    let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
    let mut out = CsvOut::new(&names);
    let columns = df.columns();
    for i in 0..df.height() {
        let mut row = Vec::with_capacity(columns.len());
        for c in columns {
            row.push(cell(c.get(i)?));
        }
        out.row(row);
    }
    Ok(out.into_bytes())
}

/// A DataFrame as Parquet bytes.
pub fn frame_parquet(df: &DataFrame) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut df = df.clone();
    ParquetWriter::new(&mut buf).finish(&mut df)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/a.csv");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.csv")]);
    }

    #[test]
    fn stale_temp_files_go_and_others_stay() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".ofsted-themes-abc.tmp");
        let fresh = dir.path().join(".ofsted-themes-def.tmp");
        let mine = dir.path().join("notes.tmp");
        for p in [&stale, &fresh, &mine] {
            std::fs::write(p, b"x").unwrap();
        }
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for p in [&stale, &mine] {
            std::fs::File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(two_hours_ago)
                .unwrap();
        }
        remove_stale_temp_files(dir.path());
        assert!(!stale.exists());
        assert!(fresh.exists() && mine.exists());
    }

    #[test]
    fn frames_format_floats_and_nulls() {
        let df = df!("a" => ["x", "y"], "b" => [Some(1.0f64), None], "c" => [1i64, 2]).unwrap();
        let s = String::from_utf8(frame_csv(&df).unwrap()).unwrap();
        assert_eq!(s, "a,b,c\nx,1.0000,1\ny,,2\n");
    }
}
