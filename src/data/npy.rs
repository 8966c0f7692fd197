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
use crate::runtime::check_alloc;
use std::io::{Read, Write};
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
        let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(path, e))?;
        f.write_all(bytes).map_err(|e| Error::io(path, e))?;
        f.sync_all().map_err(|e| Error::io(path, e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

// ---------------------------------------------------------------------------
// Reading: the header is read first and checked (magic, version, bounded
// length, bounded nesting, a shape whose size fits the file and the memory
// budget) before a single data byte is read or allocated; `npyz` then decodes
// the header and the data.

/// The longest header accepted. numpy's own reader refuses headers above 10000
/// bytes by default (`max_header_size`); 64 KiB leaves room for any header
/// numpy writes and bounds what a hostile length field can make us read.
const MAX_HEADER_LEN: usize = 1 << 16;
/// The deepest bracket nesting accepted in a header. A real header nests at
/// most three deep (`{'shape': (2, 3)}`, or a record dtype's list of tuples);
/// the bound keeps the recursive-descent Python-literal parser far from the
/// end of the stack.
const MAX_NESTING: usize = 16;

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

/// A checked header: what the data is and where it starts.
struct Header {
    npyz: npyz::NpyHeader,
    dtype: Dtype,
    shape: Vec<usize>,
    /// Number of elements (the product of `shape`, overflow-checked).
    count: usize,
    /// Bytes before the data (prefix and header text).
    data_start: u64,
}

impl Header {
    /// Data bytes the header declares (fits `usize`: checked when parsed).
    fn data_len(&self) -> usize {
        self.count * self.dtype.size()
    }
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

fn describe(v: &py_literal::Value) -> String {
    match v {
        py_literal::Value::String(s) => format!("'{s}'"),
        py_literal::Value::List(_) => "a structured (record) dtype".into(),
        other => {
            let t = other.to_string();
            if t.chars().count() > 60 {
                format!("{}...", t.chars().take(60).collect::<String>())
            } else {
                t
            }
        }
    }
}

/// Reads into `buf` until it is full or the input ends; returns the count.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Replaces the `L` of Python 2 long literals (`(3L, 4L)`, written by old numpy
/// on some platforms) outside string literals by a space, which keeps the
/// header's length and makes it a Python 3 literal.
fn blank_long_suffixes(text: &mut [u8]) {
    let mut quote: Option<u8> = None;
    for i in 0..text.len() {
        let c = text[i];
        match quote {
            Some(q) if c == q && (i == 0 || text[i - 1] != b'\\') => quote = None,
            Some(_) => {}
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == b'L' && i > 0 && text[i - 1].is_ascii_digit() => text[i] = b' ',
            None => {}
        }
    }
}

/// The deepest nesting of `()`, `[]`, `{}` outside string literals.
fn nesting_depth(text: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for &c in text {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            b'\'' | b'"' => quote = Some(c),
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Reads and checks the prefix and header of a `.npy` stream, leaving `r` at
/// the first data byte. Reads at most 12 + [`MAX_HEADER_LEN`] bytes.
fn read_header(path: &Path, r: &mut dyn Read) -> Result<Header> {
    let fmt = |msg: String| Error::format(path, msg);
    let io = |e: std::io::Error| Error::io(path, e);
    let mut pre = [0u8; 12];
    let got = read_full(r, &mut pre[..8]).map_err(io)?;
    if got < MAGIC.len() || &pre[..6] != MAGIC {
        return Err(fmt(
            "not a .npy file (missing the \\x93NUMPY magic string at the start)".into(),
        ));
    }
    if got < 8 {
        return Err(fmt("truncated .npy header (no format version)".into()));
    }
    let (major, minor) = (pre[6], pre[7]);
    let len_bytes = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => {
            return Err(fmt(format!(
                "unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)"
            )))
        }
    };
    if read_full(r, &mut pre[8..8 + len_bytes]).map_err(io)? < len_bytes {
        return Err(fmt("truncated .npy header (no header length)".into()));
    }
    let hlen = if len_bytes == 2 {
        u16::from_le_bytes([pre[8], pre[9]]) as usize
    } else {
        u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]]) as usize
    };
    if hlen > MAX_HEADER_LEN {
        return Err(fmt(format!(
            "the .npy header declares {hlen} header bytes; widenet accepts at most \
             {MAX_HEADER_LEN} (numpy writes a few hundred)"
        )));
    }
    let mut text = vec![0u8; hlen];
    let got = read_full(r, &mut text).map_err(io)?;
    if got < hlen {
        return Err(fmt(format!(
            "truncated .npy header: it declares {hlen} header bytes but the file has only {got}"
        )));
    }
    blank_long_suffixes(&mut text);
    let depth = nesting_depth(&text);
    if depth > MAX_NESTING {
        return Err(fmt(format!(
            "unreadable .npy header: brackets nest {depth} deep (a numpy header nests at \
             most a few levels; widenet accepts {MAX_NESTING})"
        )));
    }
    let body = text.strip_suffix(b"\n").unwrap_or(&text);
    let body = std::str::from_utf8(body)
        .map_err(|_| fmt("unreadable .npy header: not UTF-8 text".into()))?;
    let value: py_literal::Value = body
        .trim()
        .parse()
        .map_err(|e| fmt(format!("unreadable .npy header: {e}")))?;
    let Some(dict) = value.as_dict() else {
        return Err(fmt("the .npy header is not a dict".into()));
    };
    let get = |key: &str| {
        dict.iter()
            .find(|(k, _)| k.as_string().map(String::as_str) == Some(key))
            .map(|(_, v)| v)
            .ok_or_else(|| fmt(format!("the .npy header has no '{key}' field")))
    };
    let descr = get("descr")?;
    let dtype = match descr.as_string().map(String::as_str) {
        Some("<f4") => Dtype::F4,
        Some("<f8") => Dtype::F8,
        _ => {
            return Err(fmt(format!(
                "unsupported dtype (field 'descr') {}: widenet reads only little-endian \
                 float32 '<f4' and float64 '<f8' arrays; convert with \
                 `np.save(path, a.astype('<f8'))`",
                describe(descr)
            )))
        }
    };
    match get("fortran_order")? {
        py_literal::Value::Boolean(false) => {}
        py_literal::Value::Boolean(true) => {
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
    let shape_v = get("shape")?;
    let items = match shape_v {
        py_literal::Value::Tuple(items) | py_literal::Value::List(items) => items.as_slice(),
        other => {
            return Err(fmt(format!(
                "field 'shape' must be a tuple, found {}",
                describe(other)
            )))
        }
    };
    let shape = items
        .iter()
        .map(|v| match v {
            py_literal::Value::Integer(k) => num_traits::ToPrimitive::to_usize(k)
                .ok_or_else(|| fmt(format!("shape entry {k} is negative or too large"))),
            other => Err(fmt(format!(
                "field 'shape' must hold integers, found {}",
                describe(other)
            ))),
        })
        .collect::<Result<Vec<usize>>>()?;
    let too_large = || fmt(format!("shape {} is too large", fmt_shape(&shape)));
    // every partial product must fit (npyz multiplies left to right)
    let nonzero = shape
        .iter()
        .filter(|&&s| s != 0)
        .try_fold(1usize, |a, &s| a.checked_mul(s))
        .ok_or_else(too_large)?;
    let count = if shape.contains(&0) { 0 } else { nonzero };
    count.checked_mul(dtype.size()).ok_or_else(too_large)?;
    let prefix_len = 8 + len_bytes;
    let mut whole = Vec::with_capacity(prefix_len + hlen);
    whole.extend_from_slice(&pre[..prefix_len]);
    whole.extend_from_slice(&text);
    let npyz = npyz::NpyHeader::from_reader(&whole[..])
        .map_err(|e| fmt(format!("unreadable .npy header: {e}")))?;
    Ok(Header {
        npyz,
        dtype,
        shape,
        count,
        data_start: (prefix_len + hlen) as u64,
    })
}

/// Reads the data that `h` declares from `r` (positioned at the first data
/// byte) and checks that nothing follows. `total` is the stream's length when
/// known (a regular file), checked before anything is allocated.
fn read_data<T: Real>(
    path: &Path,
    h: Header,
    r: &mut dyn Read,
    total: Option<u64>,
) -> Result<Vec<T>> {
    let need = h.data_len();
    let truncated = |have: u64| {
        Error::format(
            path,
            format!(
                "truncated .npy data: shape {} of {} needs {need} bytes but only {have} are present",
                fmt_shape(&h.shape),
                h.dtype.descr(),
            ),
        )
    };
    let trailing = |extra: u64| {
        Error::format(
            path,
            format!(
                "{extra} unexpected bytes after the data of shape {} ({})",
                fmt_shape(&h.shape),
                h.dtype.descr()
            ),
        )
    };
    if let Some(total) = total {
        let have = total.saturating_sub(h.data_start);
        if have < need as u64 {
            return Err(truncated(have));
        }
        if have > need as u64 {
            return Err(trailing(have - need as u64));
        }
    }
    check_alloc(
        &format!("{} (shape {})", path.display(), fmt_shape(&h.shape)),
        h.count as u128,
        std::mem::size_of::<T>() as u128,
    )?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(need).map_err(|_| Error::Resource {
        what: format!("{} (shape {})", path.display(), fmt_shape(&h.shape)),
        needed: crate::runtime::fmt_bytes(need as u128),
        budget: "what the allocator could give".into(),
    })?;
    r.take(need as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() < need {
        return Err(truncated(bytes.len() as u64));
    }
    let mut probe = [0u8; 1];
    if read_full(r, &mut probe).map_err(|e| Error::io(path, e))? > 0 {
        return Err(trailing(
            1 + std::io::copy(r, &mut std::io::sink()).unwrap_or(0),
        ));
    }
    let decode = |e: std::io::Error| Error::format(path, format!("unreadable .npy data: {e}"));
    let file = npyz::NpyFile::with_header(h.npyz, &bytes[..]);
    Ok(match h.dtype {
        Dtype::F4 => file
            .into_vec::<f32>()
            .map_err(decode)?
            .into_iter()
            .map(|v| T::of(v as f64))
            .collect(),
        Dtype::F8 => file
            .into_vec::<f64>()
            .map_err(decode)?
            .into_iter()
            .map(T::of)
            .collect(),
    })
}

/// Reads a `.npy` array of any number of dimensions; returns its shape and its
/// elements in C (row-major) order, converted to `T`.
///
/// The file must hold little-endian float32 (`<f4`) or float64 (`<f8`) data in
/// C order. Other dtypes, Fortran order, truncated data, trailing bytes and
/// damaged headers give [`Error::Format`] naming the file. Only the header is
/// read before the declared size is checked against the file's length and the
/// memory budget ([`check_alloc`]), so a huge declared shape or a device such
/// as `/dev/zero` is refused without reading it.
pub fn read_array<T: Real>(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<T>)> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::format(path, "is a directory, not a .npy file"));
    }
    let total = meta.is_file().then_some(meta.len());
    let mut r = std::io::BufReader::new(file);
    let h = read_header(path, &mut r)?;
    let shape = h.shape.clone();
    let data = read_data(path, h, &mut r, total)?;
    Ok((shape, data))
}

/// Parses the bytes of a `.npy` file (see [`read_array`]); `path` only names
/// the source in error messages.
pub fn parse_array<T: Real>(path: &Path, bytes: &[u8]) -> Result<(Vec<usize>, Vec<T>)> {
    let mut r = bytes;
    let h = read_header(path, &mut r)?;
    let shape = h.shape.clone();
    let data = read_data(path, h, &mut r, Some(bytes.len() as u64))?;
    Ok((shape, data))
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
    if shape[0] == 0 || shape[1] == 0 {
        return Err(Error::format(
            path,
            format!(
                "empty matrix of shape {}: at least one row and one column are needed",
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
    if data.is_empty() {
        return Err(Error::format(
            path,
            format!(
                "empty vector of shape {}: at least one value is needed",
                fmt_shape(&shape)
            ),
        ));
    }
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
