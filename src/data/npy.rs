//! Reading and writing numpy `.npy` files (format versions 1.0, 2.0 and 3.0).
//!
//! A `.npy` file is the magic string `\x93NUMPY`, a major and a minor version
//! byte, the header length (little-endian u16 for version 1, u32 for versions 2
//! and 3), an ASCII header holding a Python dict literal such as
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }` padded with
//! spaces and a final newline so that the data starts at a multiple of 64
//! bytes, then the raw array data.
//!
//! widenet reads and writes little-endian float32 (`<f4`) and float64 (`<f8`)
//! arrays in C (row-major) order, which is also [`Matrix`]'s layout. Files are
//! written exactly as numpy's `np.save` writes them, so numpy reads them back
//! unchanged, and they are written atomically (a temporary file in the same
//! directory, then a rename), so an interrupted run never leaves a half-written
//! file under the final name.

use crate::error::{Error, Result};
use crate::linalg::{Matrix, Real};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// numpy's `ARRAY_ALIGN`: the data starts at a multiple of this many bytes.
const ARRAY_ALIGN: usize = 64;
/// numpy's `GROWTH_AXIS_MAX_DIGITS`: spare header room for growing axis 0.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// Writes `bytes` to `path` atomically, creating missing parent directories.
///
/// The bytes go to a uniquely named temporary file in the same directory,
/// which is flushed to disk and then renamed over `path`; readers see either
/// the old file or the complete new one, never a partial write.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::invalid("path", format!("{} has no file name", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}.{}",
        file_name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

// ---------------------------------------------------------------------------
// Header: a tiny parser for the Python literal numpy writes.

#[derive(Clone, Debug, PartialEq)]
enum Py {
    Str(String),
    Bool(bool),
    Int(u64),
    Tuple(Vec<Py>),
    List(Vec<Py>),
    Dict(Vec<(Py, Py)>),
    None,
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Lexer<'a> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }
    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        match self.peek() {
            Some(x) if x == c => {
                self.i += 1;
                Ok(())
            }
            Some(x) => Err(format!(
                "expected '{}' at header offset {}, found '{}'",
                c as char, self.i, x as char
            )),
            None => Err(format!("expected '{}' but the header ended", c as char)),
        }
    }
    /// Parses comma-separated values up to `close`; returns them and whether a
    /// comma followed the last one (which makes `(3,)` a tuple).
    fn seq(&mut self, close: u8) -> std::result::Result<(Vec<Py>, bool), String> {
        let mut items = Vec::new();
        let mut trailing = false;
        loop {
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok((items, trailing));
            }
            items.push(self.value()?);
            trailing = false;
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    trailing = true;
                }
                Some(c) if c == close => {}
                _ => return Err(format!("expected ',' or '{}' in header", close as char)),
            }
        }
    }
    fn value(&mut self) -> std::result::Result<Py, String> {
        match self.peek() {
            None => Err("header ended inside a value".into()),
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i] != q {
                    self.i += 1;
                }
                if self.i >= self.s.len() {
                    return Err("unterminated string in header".into());
                }
                let v = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                Ok(Py::Str(v))
            }
            Some(b'(') => {
                self.i += 1;
                let (items, trailing) = self.seq(b')')?;
                if items.len() == 1 && !trailing {
                    // `(x)` is just a parenthesized value in Python
                    Ok(items.into_iter().next().unwrap_or(Py::None))
                } else {
                    Ok(Py::Tuple(items))
                }
            }
            Some(b'[') => {
                self.i += 1;
                Ok(Py::List(self.seq(b']')?.0))
            }
            Some(b'{') => {
                self.i += 1;
                let mut entries = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(Py::Dict(entries));
                    }
                    let k = self.value()?;
                    self.expect(b':')?;
                    let v = self.value()?;
                    entries.push((k, v));
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {}
                        _ => return Err("expected ',' or '}' in header dict".into()),
                    }
                }
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                // numpy < 1.? on some platforms wrote Python 2 longs: `3L`
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                if self.i < self.s.len() && self.s[self.i] == b'L' {
                    self.i += 1;
                }
                text.parse::<u64>()
                    .map(Py::Int)
                    .map_err(|_| format!("integer {text} in header is too large"))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i].is_ascii_alphanumeric() {
                    self.i += 1;
                }
                match &self.s[start..self.i] {
                    b"True" => Ok(Py::Bool(true)),
                    b"False" => Ok(Py::Bool(false)),
                    b"None" => Ok(Py::None),
                    w => Err(format!(
                        "unexpected word '{}' in header",
                        String::from_utf8_lossy(w)
                    )),
                }
            }
            Some(c) => Err(format!(
                "unexpected character '{}' at header offset {}",
                c as char, self.i
            )),
        }
    }
}

/// The element type of a supported `.npy` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dtype {
    F4,
    F8,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::F4 => 4,
            Dtype::F8 => 8,
        }
    }
    fn of<T: Real>() -> Self {
        if std::mem::size_of::<T>() == 4 {
            Dtype::F4
        } else {
            Dtype::F8
        }
    }
    fn descr(self) -> &'static str {
        match self {
            Dtype::F4 => "<f4",
            Dtype::F8 => "<f8",
        }
    }
}

struct Header {
    dtype: Dtype,
    shape: Vec<usize>,
    data_start: usize,
}

fn fmt_shape(shape: &[usize]) -> String {
    match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn describe(v: &Py) -> String {
    match v {
        Py::Str(s) => format!("'{s}'"),
        Py::List(_) => "a structured (record) dtype".into(),
        other => format!("{other:?}"),
    }
}

fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header> {
    let fmt = |msg: String| Error::format(path, msg);
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(fmt(
            "not a .npy file (missing the \\x93NUMPY magic string at the start)".into(),
        ));
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (hlen, hstart) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(fmt("truncated .npy header".into()));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        _ => {
            return Err(fmt(format!(
                "unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)"
            )))
        }
    };
    let hend = hstart + hlen;
    if bytes.len() < hend {
        return Err(fmt(format!(
            "truncated .npy header: it declares {hlen} header bytes but the file has only {}",
            bytes.len() - hstart
        )));
    }
    let text = &bytes[hstart..hend];
    let mut lx = Lexer { s: text, i: 0 };
    let dict = match lx.value() {
        Ok(Py::Dict(d)) => d,
        Ok(_) => return Err(fmt("the .npy header is not a dict".into())),
        Err(e) => return Err(fmt(format!("unreadable .npy header: {e}"))),
    };
    let get = |key: &str| {
        dict.iter()
            .find(|(k, _)| *k == Py::Str(key.into()))
            .map(|(_, v)| v)
            .ok_or_else(|| fmt(format!("the .npy header has no '{key}' field")))
    };
    let descr = get("descr")?;
    let dtype = match descr {
        Py::Str(s) if s == "<f4" => Dtype::F4,
        Py::Str(s) if s == "<f8" => Dtype::F8,
        other => {
            return Err(fmt(format!(
                "unsupported dtype (field 'descr') {}: widenet reads only little-endian \
                 float32 '<f4' and float64 '<f8' arrays; convert with \
                 `np.save(path, a.astype('<f8'))`",
                describe(other)
            )))
        }
    };
    match get("fortran_order")? {
        Py::Bool(false) => {}
        Py::Bool(true) => {
            return Err(fmt(
                "array is stored in Fortran (column-major) order ('fortran_order': True); \
                 widenet reads C order only; save it with `np.save(path, np.ascontiguousarray(a))`"
                    .into(),
            ))
        }
        other => {
            return Err(fmt(format!(
                "field 'fortran_order' must be True or False, found {}",
                describe(other)
            )))
        }
    }
    let shape = match get("shape")? {
        Py::Tuple(items) => items
            .iter()
            .map(|v| match v {
                Py::Int(k) => {
                    usize::try_from(*k).map_err(|_| fmt(format!("shape entry {k} is too large")))
                }
                other => Err(fmt(format!(
                    "field 'shape' must hold integers, found {}",
                    describe(other)
                ))),
            })
            .collect::<Result<Vec<usize>>>()?,
        Py::Int(k) => {
            vec![usize::try_from(*k).map_err(|_| fmt(format!("shape entry {k} is too large")))?]
        }
        other => {
            return Err(fmt(format!(
                "field 'shape' must be a tuple, found {}",
                describe(other)
            )))
        }
    };
    Ok(Header {
        dtype,
        shape,
        data_start: hend,
    })
}

/// Reads a `.npy` array of any number of dimensions; returns its shape and its
/// elements in C (row-major) order, converted to `T`.
///
/// The file must hold little-endian float32 (`<f4`) or float64 (`<f8`) data in
/// C order. Other dtypes, Fortran order, truncated data, trailing bytes and
/// damaged headers give [`Error::Format`] naming the file.
pub fn read_array<T: Real>(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<T>)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_array(path, &bytes)
}

/// Parses the bytes of a `.npy` file (see [`read_array`]); `path` only names
/// the source in error messages.
pub fn parse_array<T: Real>(path: &Path, bytes: &[u8]) -> Result<(Vec<usize>, Vec<T>)> {
    let h = parse_header(path, bytes)?;
    let count = h
        .shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s))
        .ok_or_else(|| {
            Error::format(path, format!("shape {} is too large", fmt_shape(&h.shape)))
        })?;
    let size = h.dtype.size();
    let need = count.checked_mul(size).ok_or_else(|| {
        Error::format(path, format!("shape {} is too large", fmt_shape(&h.shape)))
    })?;
    let body = &bytes[h.data_start..];
    if body.len() < need {
        return Err(Error::format(
            path,
            format!(
                "truncated .npy data: shape {} of {} needs {need} bytes but only {} are present",
                fmt_shape(&h.shape),
                h.dtype.descr(),
                body.len()
            ),
        ));
    }
    if body.len() > need {
        return Err(Error::format(
            path,
            format!(
                "{} unexpected bytes after the data of shape {} ({})",
                body.len() - need,
                fmt_shape(&h.shape),
                h.dtype.descr()
            ),
        ));
    }
    let data: Vec<T> = match h.dtype {
        Dtype::F4 => body
            .chunks_exact(4)
            .map(|c| T::of(f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64))
            .collect(),
        Dtype::F8 => body
            .chunks_exact(8)
            .map(|c| {
                T::of(f64::from_le_bytes([
                    c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                ]))
            })
            .collect(),
    };
    Ok((h.shape, data))
}

/// Reads a 2-D `.npy` array as a matrix (see [`read_array`]); any other number
/// of dimensions is an error naming the file and the shape.
pub fn read_matrix<T: Real>(path: impl AsRef<Path>) -> Result<Matrix<T>> {
    let path = path.as_ref();
    let (shape, data) = read_array::<T>(path)?;
    if shape.len() != 2 {
        return Err(Error::format(
            path,
            format!(
                "expected a 2-D array (a matrix), found shape {}",
                fmt_shape(&shape)
            ),
        ));
    }
    Matrix::from_vec(shape[0], shape[1], data)
}

/// Reads a vector from a `.npy` file: a 1-D array, or a 2-D array with one row
/// or one column. Any other shape is an error naming the file and the shape.
pub fn read_vector<T: Real>(path: impl AsRef<Path>) -> Result<Vec<T>> {
    let path = path.as_ref();
    let (shape, data) = read_array::<T>(path)?;
    match shape.as_slice() {
        [_] => Ok(data),
        [1, _] | [_, 1] => Ok(data),
        _ => Err(Error::format(
            path,
            format!(
                "expected a vector (1-D, or 2-D with one row or column), found shape {}",
                fmt_shape(&shape)
            ),
        )),
    }
}

/// Encodes an array as `.npy` bytes with the dtype of `T` (`<f4` or `<f8`),
/// byte for byte as numpy's `np.save` writes it (format 1.0, or 2.0 when the
/// header is too long for 1.0).
pub fn encode_array<T: Real>(shape: &[usize], data: &[T]) -> Result<Vec<u8>> {
    let count = shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s))
        .ok_or_else(|| Error::Shape(format!("shape {} is too large", fmt_shape(shape))))?;
    if count != data.len() {
        return Err(Error::Shape(format!(
            "{} values cannot fill an array of shape {}",
            data.len(),
            fmt_shape(shape)
        )));
    }
    let dtype = Dtype::of::<T>();
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
        dtype.descr(),
        fmt_shape(shape)
    );
    // numpy leaves room to grow axis 0 in place (numpy/lib/format.py)
    if let Some(first) = shape.first() {
        let digits = first.to_string().len();
        header.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
    }
    let hlen = header.len() + 1; // + final newline
                                 // like numpy's `_wrap_header_guess_version`: version 1.0 unless the padded
                                 // header length does not fit its u16 field
    let pad1 = ARRAY_ALIGN - ((10 + hlen) % ARRAY_ALIGN);
    let (version, prefix, pad) = if hlen + pad1 <= u16::MAX as usize {
        (1u8, 10, pad1)
    } else {
        (2u8, 12, ARRAY_ALIGN - ((12 + hlen) % ARRAY_ALIGN))
    };
    let total_hlen = hlen + pad;
    let mut out = Vec::with_capacity(prefix + total_hlen + data.len() * dtype.size());
    out.extend_from_slice(MAGIC);
    out.push(version);
    out.push(0);
    if version == 1 {
        out.extend_from_slice(&(total_hlen as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(total_hlen as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    match dtype {
        Dtype::F4 => {
            for &v in data {
                out.extend_from_slice(&(v.as_f64() as f32).to_le_bytes());
            }
        }
        Dtype::F8 => {
            for &v in data {
                out.extend_from_slice(&v.as_f64().to_le_bytes());
            }
        }
    }
    Ok(out)
}

/// Writes an array of the given shape (C order) with the dtype of `T`,
/// atomically (see [`atomic_write`]).
pub fn write_array<T: Real>(path: impl AsRef<Path>, shape: &[usize], data: &[T]) -> Result<()> {
    let bytes = encode_array(shape, data)?;
    atomic_write(path.as_ref(), &bytes)
}

/// Writes a matrix as a 2-D array with the dtype of `T`, atomically.
pub fn write_matrix<T: Real>(path: impl AsRef<Path>, m: &Matrix<T>) -> Result<()> {
    write_array(path, &[m.rows(), m.cols()], m.as_slice())
}

/// Writes a vector as a 1-D array with the dtype of `T`, atomically.
pub fn write_vector<T: Real>(path: impl AsRef<Path>, v: &[T]) -> Result<()> {
    write_array(path, &[v.len()], v)
}
