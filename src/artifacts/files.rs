//! Result files, written so that a reader never sees a partial file: atomic writes
//! ([`atomic_write`]), pretty JSON ([`write_json`] / [`read_json`]) and CSV columns
//! ([`write_csv`]). A low-level module: it imports nothing of widenet but [`crate::error`],
//! so every layer (experiments included) may write its artifacts with it.

use crate::error::{Error, Result};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh temporary path next to `path` (same directory, so a rename is
/// atomic), hidden, and ending in `suffix`.
pub(crate) fn temp_path(path: &Path, suffix: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    path.with_file_name(format!(
        ".{name}.tmp.{}.{n}.{nanos}{suffix}",
        std::process::id()
    ))
}

/// Writes `bytes` to `path` atomically: the data go to a temporary file in
/// the same directory, which is flushed and renamed over `path`, so readers
/// never see a partial file. Parent directories are created as needed; the
/// temporary file is removed on failure.
pub fn atomic_write(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    if path.file_name().is_none() {
        return Err(Error::invalid(
            "output path",
            format!("'{}' does not name a file", path.display()),
        ));
    }
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
    }
    let tmp = temp_path(path, "");
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// Writes `value` as pretty-printed JSON (with a trailing newline) to `path`,
/// atomically. Non-finite floats become `null`, as serde_json writes them.
pub fn write_json<T: Serialize + ?Sized>(path: impl AsRef<Path>, value: &T) -> Result<()> {
    let path = path.as_ref();
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        err: source,
    })?;
    bytes.push(b'\n');
    atomic_write(path, &bytes)
}

/// Reads a JSON file written by [`write_json`].
pub fn read_json<T: serde::de::DeserializeOwned>(path: impl AsRef<Path>) -> Result<T> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        err: source,
    })
}

/// Quotes a CSV field when it contains a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Renders columns as CSV text (see [`write_csv`]).
pub fn csv_string<H: AsRef<str>>(headers: &[H], columns: &[Vec<f64>]) -> Result<String> {
    if headers.len() != columns.len() {
        return Err(Error::Shape(format!(
            "CSV has {} headers but {} columns",
            headers.len(),
            columns.len()
        )));
    }
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = String::new();
    out.push_str(
        &headers
            .iter()
            .map(|h| csv_field(h.as_ref()))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push('\n');
    for r in 0..rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| c.get(r).map(|v| format!("{v}")).unwrap_or_default())
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// Writes named columns of numbers as CSV to `path`, atomically: one header
/// line, then one line per row. Columns may differ in length; missing cells
/// are left empty. Values use Rust's shortest round-trip formatting (`{}`),
/// so parsing a cell back gives the identical f64 (`NaN`, `inf`, `-inf` for
/// non-finite values). Errors when `headers` and `columns` differ in number.
pub fn write_csv<H: AsRef<str>>(
    path: impl AsRef<Path>,
    headers: &[H],
    columns: &[Vec<f64>],
) -> Result<()> {
    let path = path.as_ref();
    let text = csv_string(headers, columns).map_err(|e| match e {
        Error::Shape(msg) => Error::format(path, msg),
        other => other,
    })?;
    atomic_write(path, text.as_bytes())
}
