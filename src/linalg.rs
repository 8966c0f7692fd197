//! Dense linear algebra: a row-major matrix type that matches numpy's C order,
//! GEMM through the `gemm` crate (AVX-512 kernels chosen at run time), and the
//! symmetric eigendecomposition and Cholesky factorization of faer.

use crate::error::{Error, Result};
use faer::{Mat, MatRef};
use std::fmt::Debug;

/// Floating-point precision of a computation (training, kernels): the two [`Real`] types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// Single precision (the fast path).
    F32,
    /// Double precision.
    F64,
}

crate::options::option_enum!(Precision, "precision", {
    F32 => "f32" | "float32",
    F64 => "f64" | "float64",
});

/// The floating-point types widenet computes in (f32 and f64).
pub trait Real:
    num_traits::Float
    + Send
    + Sync
    + 'static
    + Debug
    + Default
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
{
    /// "f32" or "f64", for saved settings and messages.
    const NAME: &'static str;
    /// Conversion from f64 (rounding for f32).
    fn of(v: f64) -> Self;
    /// Widening conversion to f64.
    fn as_f64(self) -> f64;
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn of(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn of(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
}

/// A dense row-major matrix (numpy C order): element (i, j) is `data[i * cols + j]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix<T> {
    rows: usize,
    cols: usize,
    data: Vec<T>,
}

impl<T: Real> Matrix<T> {
    /// A rows × cols matrix of zeros.
    ///
    /// # Panics
    /// When rows × cols overflows `usize` (sizes from a file or a flag go
    /// through [`Matrix::try_zeros`] instead).
    pub fn zeros(rows: usize, cols: usize) -> Self {
        let len = rows
            .checked_mul(cols)
            .unwrap_or_else(|| panic!("a {rows}x{cols} matrix has more elements than usize holds"));
        Matrix {
            rows,
            cols,
            data: vec![T::zero(); len],
        }
    }

    /// A rows × cols matrix of zeros for `what`, after checking with overflow-checked
    /// arithmetic that it fits the memory budget ([`crate::runtime::check_alloc`]):
    /// the constructor for sizes that come from a file or a flag.
    pub fn try_zeros(rows: usize, cols: usize, what: &str) -> Result<Self> {
        let len = crate::runtime::check_alloc(
            &format!("{what} ({rows}x{cols})"),
            rows as u128 * cols as u128,
            std::mem::size_of::<T>() as u128,
        )?;
        let mut data = Vec::new();
        data.try_reserve_exact(len).map_err(|_| Error::Resource {
            what: format!("{what} ({rows}x{cols})"),
            needed: crate::runtime::fmt_bytes(len as u128 * std::mem::size_of::<T>() as u128),
            budget: "what the allocator could give".into(),
        })?;
        data.resize(len, T::zero());
        Ok(Matrix { rows, cols, data })
    }

    /// Wraps row-major `data`; errors when its length is not rows × cols.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> Result<Self> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(Error::Shape(format!(
                "{} values cannot fill a {rows}x{cols} matrix",
                data.len()
            )));
        }
        Ok(Matrix { rows, cols, data })
    }

    /// Builds a matrix from `f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let len = rows
            .checked_mul(cols)
            .unwrap_or_else(|| panic!("a {rows}x{cols} matrix has more elements than usize holds"));
        let mut data = Vec::with_capacity(len);
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(i, j));
            }
        }
        Matrix { rows, cols, data }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// (rows, cols).
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }
    /// Element (i, j).
    #[inline(always)]
    pub fn get(&self, i: usize, j: usize) -> T {
        self.data[i * self.cols + j]
    }
    /// Sets element (i, j).
    #[inline(always)]
    pub fn set(&mut self, i: usize, j: usize, v: T) {
        self.data[i * self.cols + j] = v;
    }
    /// Row i as a slice.
    #[inline(always)]
    pub fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
    /// Row i as a mutable slice.
    #[inline(always)]
    pub fn row_mut(&mut self, i: usize) -> &mut [T] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }
    /// All elements, row-major.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }
    /// All elements, row-major, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }
    /// Consumes the matrix, returning its row-major data.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }
    /// The transpose (a copy).
    pub fn transpose(&self) -> Self {
        Matrix::from_fn(self.cols, self.rows, |i, j| self.get(j, i))
    }
    /// Element-wise conversion to another precision.
    pub fn cast<U: Real>(&self) -> Matrix<U> {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|&v| U::of(v.as_f64())).collect(),
        }
    }
    /// The rows listed in `idx`, in that order.
    pub fn select_rows(&self, idx: &[usize]) -> Self {
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Matrix {
            rows: idx.len(),
            cols: self.cols,
            data,
        }
    }
    /// A read-only strided view of the whole matrix.
    pub fn view(&self) -> View<'_, T> {
        View {
            data: &self.data,
            rows: self.rows,
            cols: self.cols,
            rs: self.cols as isize,
            cs: 1,
        }
    }
    /// A view of the transpose (no copy).
    pub fn t(&self) -> View<'_, T> {
        self.view().t()
    }
    /// Frobenius norm, accumulated in f64.
    pub fn frobenius(&self) -> f64 {
        self.data
            .iter()
            .map(|&v| {
                let x = v.as_f64();
                x * x
            })
            .sum::<f64>()
            .sqrt()
    }
    /// True when every element is finite.
    pub fn all_finite(&self) -> bool {
        self.data.iter().all(|v| v.is_finite())
    }
}

impl Matrix<f64> {
    /// A faer view of this matrix (row-major strides, no copy).
    pub fn as_faer(&self) -> MatRef<'_, f64> {
        MatRef::from_row_major_slice(&self.data, self.rows, self.cols)
    }
    /// Copies a faer matrix into a row-major matrix.
    pub fn from_faer(m: MatRef<'_, f64>) -> Self {
        Matrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)])
    }
}

/// A read-only strided view used to pass transposes to GEMM without copies.
#[derive(Clone, Copy, Debug)]
pub struct View<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
}

impl<'a, T> View<'a, T> {
    /// The transposed view.
    pub fn t(self) -> Self {
        View {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }
    /// A row-major view of a slice.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self> {
        if data.len() != rows * cols {
            return Err(Error::Shape(format!(
                "{} values cannot be viewed as {rows}x{cols}",
                data.len()
            )));
        }
        Ok(View {
            data,
            rows,
            cols,
            rs: cols as isize,
            cs: 1,
        })
    }
    /// The first `cols` columns of a row-major array whose rows are `stride`
    /// apart (a growing block of columns held in a wider buffer).
    pub fn leading_cols(data: &'a [T], rows: usize, cols: usize, stride: usize) -> Result<Self> {
        if cols > stride || (rows > 0 && (rows - 1) * stride + cols > data.len()) {
            return Err(Error::Shape(format!(
                "{} values with row stride {stride} cannot hold {rows}x{cols}",
                data.len()
            )));
        }
        Ok(View {
            data,
            rows,
            cols,
            rs: stride as isize,
            cs: 1,
        })
    }
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// The block of `rows` × `cols` starting at (`r0`, `c0`) (no copy).
    pub fn block(self, r0: usize, rows: usize, c0: usize, cols: usize) -> Result<Self> {
        if r0 + rows > self.rows || c0 + cols > self.cols {
            return Err(Error::Shape(format!(
                "block {rows}x{cols} at ({r0}, {c0}) of a {}x{} matrix",
                self.rows, self.cols
            )));
        }
        if rows == 0 || cols == 0 {
            return Ok(View {
                data: &self.data[..0],
                rows,
                cols,
                ..self
            });
        }
        // strides are never negative: views come from row-major matrices and transposes
        let start = r0 * self.rs as usize + c0 * self.cs as usize;
        Ok(View {
            data: &self.data[start..],
            rows,
            cols,
            ..self
        })
    }
}

fn gemm_parallelism(flops: f64) -> gemm::Parallelism {
    // Below ~1 MFLOP thread start-up dominates: stay on the calling thread.
    if flops < 1e6 {
        gemm::Parallelism::None
    } else {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    }
}

/// `dst = beta * a * b` (or `dst += beta * a * b` when `accumulate`), on all threads.
///
/// All of widenet's matrix products go through this function (or
/// [`gemm_into_par`]), which calls the `gemm` crate (its AVX-512 kernels are
/// selected at run time).
pub fn gemm_into<T: Real>(
    dst: &mut Matrix<T>,
    a: View<'_, T>,
    b: View<'_, T>,
    beta: T,
    accumulate: bool,
) -> Result<()> {
    gemm_into_par(dst, a, b, beta, accumulate, true)
}

/// [`gemm_into`] with a choice of threading: `parallel = false` keeps the product
/// on the calling thread (for products that are themselves run in parallel).
pub fn gemm_into_par<T: Real>(
    dst: &mut Matrix<T>,
    a: View<'_, T>,
    b: View<'_, T>,
    beta: T,
    accumulate: bool,
    parallel: bool,
) -> Result<()> {
    if a.cols != b.rows || dst.rows != a.rows || dst.cols != b.cols {
        return Err(Error::Shape(format!(
            "matrix product ({}x{}) * ({}x{}) into {}x{}",
            a.rows, a.cols, b.rows, b.cols, dst.rows, dst.cols
        )));
    }
    let (m, n, k) = (a.rows, b.cols, a.cols);
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            dst.data.iter_mut().for_each(|v| *v = T::zero());
        }
        return Ok(());
    }
    let par = if parallel {
        gemm_parallelism(2.0 * m as f64 * n as f64 * k as f64)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the shape checks above guarantee every index the kernel touches
    // (i*rs + j*cs for i < rows, j < cols) lies inside the backing slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.data.as_mut_ptr(),
            1,
            dst.cols as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs,
            a.rs,
            b.data.as_ptr(),
            b.cs,
            b.rs,
            T::one(),
            beta,
            false,
            false,
            false,
            par,
        );
    }
    Ok(())
}

/// `a * b` as a new matrix.
pub fn matmul<T: Real>(a: View<'_, T>, b: View<'_, T>) -> Result<Matrix<T>> {
    let mut dst = Matrix::zeros(a.rows, b.cols);
    gemm_into(&mut dst, a, b, T::one(), false)?;
    Ok(dst)
}

/// Rows (or columns) per block of [`matmul_symmetric`] and [`matmul_lower`]: wide enough
/// for the GEMM kernels' full speed, narrow enough that the skipped triangle is most of
/// the half.
const TRI_BLOCK: usize = 192;

/// `a * b` for a product known to be symmetric in exact arithmetic (XᵀKX with K
/// symmetric, W Wᵀ): only the blocks on and below the diagonal are computed, row block by
/// row block (about half the flops of [`matmul`], as BLAS's syrk), and the upper
/// triangle is the mirror of the lower, so the result is exactly symmetric.
pub fn matmul_symmetric<T: Real>(a: View<'_, T>, b: View<'_, T>) -> Result<Matrix<T>> {
    let m = a.rows;
    if b.cols != m || a.cols != b.rows {
        return Err(Error::Shape(format!(
            "symmetric product ({}x{}) * ({}x{}) is not square",
            a.rows, a.cols, b.rows, b.cols
        )));
    }
    let mut c = Matrix::zeros(m, m);
    for r0 in (0..m).step_by(TRI_BLOCK) {
        let rb = TRI_BLOCK.min(m - r0);
        let end = r0 + rb;
        let mut blk = Matrix::zeros(rb, end);
        gemm_into(
            &mut blk,
            a.block(r0, rb, 0, a.cols)?,
            b.block(0, b.rows, 0, end)?,
            T::one(),
            false,
        )?;
        for i in 0..rb {
            c.row_mut(r0 + i)[..=r0 + i].copy_from_slice(&blk.row(i)[..=r0 + i]);
        }
    }
    for i in 0..m {
        for j in 0..i {
            let v = c.get(i, j);
            c.set(j, i, v);
        }
    }
    Ok(c)
}

/// `a * l` for a lower-triangular `l` (zeros above its diagonal): column block J of the
/// product is a[:, J..] l[J.., J], so about half the flops of [`matmul`] (as BLAS's
/// trmm).
pub fn matmul_lower<T: Real>(a: View<'_, T>, l: &Matrix<T>) -> Result<Matrix<T>> {
    let n = l.rows;
    if l.cols != n || a.cols != n {
        return Err(Error::Shape(format!(
            "triangular product ({}x{}) * ({}x{})",
            a.rows, a.cols, l.rows, l.cols
        )));
    }
    let m = a.rows;
    let mut c = Matrix::zeros(m, n);
    for c0 in (0..n).step_by(TRI_BLOCK) {
        let cb = TRI_BLOCK.min(n - c0);
        let mut blk = Matrix::zeros(m, cb);
        gemm_into(
            &mut blk,
            a.block(0, m, c0, n - c0)?,
            l.view().block(c0, n - c0, c0, cb)?,
            T::one(),
            false,
        )?;
        for i in 0..m {
            c.row_mut(i)[c0..c0 + cb].copy_from_slice(blk.row(i));
        }
    }
    Ok(c)
}

/// `x * xᵀ` for a row-major sample matrix x (n × d): the Gram matrix of the rows.
pub fn gram<T: Real>(x: &Matrix<T>) -> Matrix<T> {
    matmul(x.view(), x.t()).expect("shapes of x and its transpose always agree")
}

/// A symmetric eigendecomposition with eigenvalues in descending order.
#[derive(Clone, Debug)]
pub struct SymEigen {
    /// Eigenvalues λ_1 ≥ … ≥ λ_n.
    pub values: Vec<f64>,
    /// Orthonormal eigenvectors as columns, in the order of `values` (n × n).
    pub vectors: Matrix<f64>,
}

impl SymEigen {
    /// Projections v_iᵀy of a vector on every eigenvector, in the order of `values`.
    pub fn project(&self, y: &[f64]) -> Result<Vec<f64>> {
        let n = self.values.len();
        if y.len() != n {
            return Err(Error::Shape(format!(
                "label vector of length {} against a {n}x{n} kernel",
                y.len()
            )));
        }
        let yv = View::row_major(y, n, 1)?;
        Ok(matmul(self.vectors.t(), yv)?.into_vec())
    }
}

fn check_square(h: &Matrix<f64>, what: &str) -> Result<()> {
    if h.rows != h.cols {
        return Err(Error::Shape(format!(
            "{what} must be square, got {}x{}",
            h.rows, h.cols
        )));
    }
    if !h.all_finite() {
        return Err(Error::Numerical(format!("{what} has non-finite entries")));
    }
    Ok(())
}

/// faer's self-adjoint eigendecomposition of the lower triangle of `h`, run on a fixed
/// number of `threads`: sequentially (`Par::Seq`) for 1, otherwise `Par::rayon(threads)`
/// inside a pool of its own of that size. faer splits the tridiagonalization and the
/// divide-and-conquer by its thread count, so the results differ in the last bits
/// between counts (issue 13: 1e-15 in `reproduce arora-fig1`); a count fixed by the
/// caller, never the caller's pool size (RAYON_NUM_THREADS), keeps every run
/// bit-identical at any thread count. Returns the ascending eigenvalues and, when
/// `vectors`, U.
fn fixed_evd(
    h: &Matrix<f64>,
    vectors: bool,
    threads: usize,
) -> Result<(Vec<f64>, Option<Mat<f64>>)> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::evd::{self_adjoint_evd, self_adjoint_evd_scratch, ComputeEigenvectors};
    let n = h.rows;
    let par = if threads <= 1 {
        faer::Par::Seq
    } else {
        faer::Par::rayon(threads)
    };
    let compute = if vectors {
        ComputeEigenvectors::Yes
    } else {
        ComputeEigenvectors::No
    };
    let run = || {
        let mut s = faer::diag::Diag::<f64>::zeros(n);
        let mut u = vectors.then(|| Mat::<f64>::zeros(n, n));
        let mut mem = MemBuffer::new(self_adjoint_evd_scratch::<f64>(
            n,
            compute,
            par,
            Default::default(),
        ));
        self_adjoint_evd(
            h.as_faer(),
            s.as_mut(),
            u.as_mut().map(|u| u.as_mut()),
            par,
            MemStack::new(&mut mem),
            Default::default(),
        )
        .map_err(|e| Error::Numerical(format!("eigendecomposition did not converge: {e:?}")))?;
        let values = (0..n).map(|i| s[i]).collect();
        Ok((values, u))
    };
    if threads <= 1 {
        return run();
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Numerical(format!("the eigensolver's thread pool: {e}")))?
        .install(run)
}

/// Full eigendecomposition of a symmetric matrix (faer's divide-and-conquer,
/// sequential so that results are bit-identical at any thread count),
/// eigenvalues in descending order.
pub fn sym_eigen(h: &Matrix<f64>) -> Result<SymEigen> {
    sym_eigen_threads(h, 1)
}

/// [`sym_eigen`] on a fixed number of `threads` (its own pool; 1: sequential): the bits
/// depend on `threads` and on nothing else, so a caller that always passes the same
/// count stays bit-identical at any RAYON_NUM_THREADS.
pub fn sym_eigen_threads(h: &Matrix<f64>, threads: usize) -> Result<SymEigen> {
    check_square(h, "matrix for eigendecomposition")?;
    let n = h.rows;
    let (s, u) = fixed_evd(h, true, threads)?;
    let u = u.expect("eigenvectors were requested");
    let values: Vec<f64> = s.into_iter().rev().collect();
    let vectors = Matrix::from_fn(n, n, |i, j| u[(i, n - 1 - j)]);
    Ok(SymEigen { values, vectors })
}

/// Eigenvalues only of a symmetric matrix, descending (cheaper than [`sym_eigen`];
/// sequential, like it).
pub fn sym_eigenvalues(h: &Matrix<f64>) -> Result<Vec<f64>> {
    check_square(h, "matrix for eigenvalues")?;
    let (mut v, _) = fixed_evd(h, false, 1)?;
    v.reverse();
    Ok(v)
}

/// A Cholesky factorization H = L Lᵀ of a symmetric positive-definite matrix.
pub struct Cholesky {
    /// The lower factor L (its upper triangle is not used).
    l: Mat<f64>,
    n: usize,
}

/// faer's in-place Cholesky factorization of the lower triangle of `h`, run
/// sequentially: like the eigensolver ([`sym_eigen`]), the parallel blocked
/// factorization differs in the last bits between thread counts (n ≥ ~800).
fn seq_llt(h: &Matrix<f64>) -> Option<Mat<f64>> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::cholesky::llt::factor::{cholesky_in_place, cholesky_in_place_scratch};
    let n = h.rows;
    let par = faer::Par::Seq;
    let src = h.as_faer();
    let mut l = Mat::<f64>::from_fn(n, n, |i, j| if i >= j { src[(i, j)] } else { 0.0 });
    let mut mem = MemBuffer::new(cholesky_in_place_scratch::<f64>(n, par, Default::default()));
    cholesky_in_place(
        l.as_mut(),
        Default::default(),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    Some(l)
}

impl Cholesky {
    /// Factors `h`; when it is not positive definite the error reports its smallest
    /// eigenvalue, computed on the spot, and names `what`.
    pub fn new(h: &Matrix<f64>, what: &str) -> Result<Self> {
        check_square(h, what)?;
        match Self::try_new(h) {
            Some(c) => Ok(c),
            None => {
                let min_eig = sym_eigenvalues(h)
                    .ok()
                    .and_then(|v| v.last().copied())
                    .unwrap_or(f64::NAN);
                Err(Error::NotPositiveDefinite {
                    what: what.to_string(),
                    min_eig,
                })
            }
        }
    }

    /// Factors `h` (square and finite), or `None` when it is not numerically positive
    /// definite: a factorization whose smallest pivot is at rounding level is a
    /// numerically singular matrix (e.g. duplicate inputs), reported, not silently used.
    pub fn try_new(h: &Matrix<f64>) -> Option<Self> {
        if h.rows != h.cols || !h.all_finite() {
            return None;
        }
        let max_diag = (0..h.rows).map(|i| h.get(i, i).abs()).fold(0.0, f64::max);
        let tiny = 1e-13 * max_diag.max(f64::MIN_POSITIVE);
        seq_llt(h)
            .filter(|l| (0..h.rows).all(|i| l[(i, i)] * l[(i, i)] > tiny))
            .map(|l| Cholesky { l, n: h.rows })
    }

    /// The lower factor L of H = L Lᵀ (zeros above the diagonal).
    pub fn lower(&self) -> Matrix<f64> {
        Matrix::from_fn(
            self.n,
            self.n,
            |i, j| {
                if j <= i {
                    self.l[(i, j)]
                } else {
                    0.0
                }
            },
        )
    }

    /// Solves H z = y.
    pub fn solve(&self, y: &[f64]) -> Result<Vec<f64>> {
        if y.len() != self.n {
            return Err(Error::Shape(format!(
                "right-hand side of length {} for a {}x{} system",
                y.len(),
                self.n,
                self.n
            )));
        }
        let z = self.solve_matrix(&Matrix::from_fn(self.n, 1, |i, _| y[i]))?;
        Ok((0..self.n).map(|i| z.get(i, 0)).collect())
    }

    /// Solves H Z = B for every column of B (n × c) at once.
    pub fn solve_matrix(&self, b: &Matrix<f64>) -> Result<Matrix<f64>> {
        if b.rows != self.n {
            return Err(Error::Shape(format!(
                "right-hand sides with {} rows for a {}x{} system",
                b.rows, self.n, self.n
            )));
        }
        let mut rhs = Mat::from_fn(self.n, b.cols, |i, j| b.get(i, j));
        faer::linalg::cholesky::llt::solve::solve_in_place_with_conj(
            self.l.as_ref(),
            faer::Conj::No,
            rhs.as_mut(),
            faer::Par::Seq,
            faer::dyn_stack::MemStack::new(&mut faer::dyn_stack::MemBuffer::new(
                faer::dyn_stack::StackReq::EMPTY,
            )),
        );
        Ok(Matrix::from_fn(self.n, b.cols, |i, j| rhs[(i, j)]))
    }

    /// yᵀ H⁻¹ y, computed as ‖L⁻¹y‖² so it is non-negative by construction.
    pub fn quad_inv(&self, y: &[f64]) -> Result<f64> {
        let z = self.solve(y)?;
        let q: f64 = y.iter().zip(&z).map(|(a, b)| a * b).sum();
        if !q.is_finite() {
            return Err(Error::Numerical("y^T H^-1 y is not finite".into()));
        }
        Ok(q)
    }
}

/// Euclidean norm accumulated in f64.
pub fn norm2<T: Real>(v: &[T]) -> f64 {
    v.iter()
        .map(|&x| {
            let x = x.as_f64();
            x * x
        })
        .sum::<f64>()
        .sqrt()
}

/// Dot product accumulated in f64.
pub fn dot<T: Real>(a: &[T], b: &[T]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| x.as_f64() * y.as_f64())
        .sum()
}

/// Least-squares line y ≈ slope·x + intercept; returns (slope, intercept, residual sum of
/// squares). NaN slope with fewer than two distinct x.
pub fn least_squares(x: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let n = x.len().min(y.len()) as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let rss = x
        .iter()
        .zip(y)
        .map(|(a, b)| (b - slope * a - intercept).powi(2))
        .sum();
    (slope, intercept, rss)
}
