//! The concept classes of seed 003 (Allen-Zhu & Li, "What Can ResNet Learn
//! Efficiently, Going Beyond Kernels?"): targets H(x) = βF(x) + αG(F(x)) on
//! hypercube inputs, and the degree-6 parity of its Figure 3.
//!
//! - [`Fig2Target`] (Figure 2, App. A): x uniform on {−1, 1}^30,
//!   F(x) = (x1x2, x3x4, …, x15x16) ∈ R^8, each output of G a degree-4 parity of
//!   F's coordinates, α = 0.3, β = 1.
//! - [`Thm2Target`] (Theorem 2, §7): x uniform on {±1/√d}^d, F(x) = W*x with
//!   W* = √d(e_{i1}, …, e_{ik}), G(y) = (Π_{j∈[k]} y_j)_{i∈[k]}.
//! - [`Fig3Target`] (Figure 3, App. A.1): x uniform on {±1/√d}^d,
//!   y = d³ x_{i1}⋯x_{i6} ∈ {−1, +1}.
//!
//! Every generator takes `(n, seed)` and returns the inputs (n × d) and the
//! targets (n × k); inputs come from `rng::stream(seed, "<target>-x")`, so a
//! training and a test set need different seeds. Random index choices (Theorem 2,
//! Figure 3) are made once by the constructors from their own seed.

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::rng::{self, WRng};
use serde::{Deserialize, Serialize};

/// A target by name (Python's `resnet_target(name)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetName {
    /// [`Fig2Target`].
    Fig2,
    /// [`Thm2Target`].
    Thm2,
    /// [`Fig3Target`].
    Fig3,
}

crate::options::option_enum!(TargetName, "name", {
    Fig2 => "fig2"; "seed 003 Figure 2",
    Thm2 => "thm2"; "seed 003 Theorem 2",
    Fig3 => "fig3"; "seed 003 Figure 3's degree-6 parity",
});

/// `n` points uniform on {−scale, +scale}^d, one per row.
pub fn hypercube(n: usize, d: usize, scale: f64, rng: &mut WRng) -> Matrix<f64> {
    Matrix::from_fn(n, d, |_, _| scale * rng::rademacher(rng))
}

/// All 2^p points of {−s, +s}^p, one per row; row b has coordinate t equal to
/// +s when bit t of b is set.
pub fn enumerate_hypercube(p: usize, s: f64) -> Result<Matrix<f64>> {
    if p > 20 {
        return Err(Error::invalid(
            "p",
            format!("2^{p} points is too many to enumerate"),
        ));
    }
    Ok(Matrix::from_fn(1 << p, p, |b, t| {
        if (b >> t) & 1 == 1 {
            s
        } else {
            -s
        }
    }))
}

fn check_dim(x: &Matrix<f64>, d: usize) -> Result<()> {
    if x.cols() != d {
        return Err(Error::Shape(format!(
            "inputs of dimension {} for a target on dimension {d}",
            x.cols()
        )));
    }
    Ok(())
}

fn check_indices(name: &str, idx: &[usize], bound: usize, what: &str) -> Result<()> {
    for (a, &i) in idx.iter().enumerate() {
        if i >= bound {
            return Err(Error::invalid(
                name,
                format!("index {i} is out of range for {what} of size {bound}"),
            ));
        }
        if idx[..a].contains(&i) {
            return Err(Error::invalid(name, format!("index {i} appears twice")));
        }
    }
    Ok(())
}

/// The degree-4 parities of Figure 2's G for k = 8 outputs (0-based indices into
/// F's coordinates).
///
/// The seed prints only G(y) = (y1y2y3y4, y5y6y7y8). We use all eight cyclic
/// windows {s, s+1, s+2, s+3} (mod 8), ordered by start s = 0, 4, 1, 5, 2, 6, 3, 7
/// (output j starts at (4j + ⌊j/2⌋) mod 8), so that outputs 1 and 2 are exactly the
/// seed's two printed coordinates and every output is a distinct degree-4 parity
/// of F (a degree-8 parity of x).
pub fn fig2_paper_sets() -> Vec<Vec<usize>> {
    (0..8)
        .map(|j| {
            let s = (4 * j + j / 2) % 8;
            (0..4).map(|t| (s + t) % 8).collect()
        })
        .collect()
}

/// Figure 2's target H(x) = βF(x) + αG(F(x)) (seed 003, App. A), configurable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fig2Target {
    /// Input dimension (30 in the seed); coordinates past 2k are unused.
    pub d: usize,
    /// One set of F-coordinate indices per output: G_j(F) = Π_{t ∈ g_sets[j]} F_t.
    /// Its length is k, the number of F coordinates and of outputs;
    /// F_t = x_{2t} x_{2t+1} (0-based), so d ≥ 2k.
    pub g_sets: Vec<Vec<usize>>,
    /// Weight α of the composite signal G(F) (0.3 in the seed).
    pub alpha: f64,
    /// Weight β of the base signal F (1 in the seed; varied in Figure 2(c)).
    pub beta: f64,
}

impl Default for Fig2Target {
    fn default() -> Self {
        Fig2Target {
            d: 30,
            g_sets: fig2_paper_sets(),
            alpha: 0.3,
            beta: 1.0,
        }
    }
}

impl Fig2Target {
    /// The seed's target (d = 30, k = 8, [`fig2_paper_sets`]) with the given α, β.
    pub fn new(alpha: f64, beta: f64) -> Self {
        Fig2Target {
            alpha,
            beta,
            ..Default::default()
        }
    }

    /// Number of outputs k (= number of F coordinates).
    pub fn k(&self) -> usize {
        self.g_sets.len()
    }

    /// Checks d ≥ 2k, the G index sets, and finite α, β.
    pub fn validate(&self) -> Result<()> {
        let k = self.k();
        if k == 0 {
            return Err(Error::invalid("g_sets", "at least one output is needed"));
        }
        if self.d < 2 * k {
            return Err(Error::invalid(
                "d",
                format!(
                    "F uses pairs of coordinates: d = {} < 2k = {}",
                    self.d,
                    2 * k
                ),
            ));
        }
        for (j, s) in self.g_sets.iter().enumerate() {
            check_indices(&format!("g_sets[{j}]"), s, k, "F")?;
        }
        if !(self.alpha.is_finite() && self.beta.is_finite()) {
            return Err(Error::invalid("alpha/beta", "must be finite"));
        }
        Ok(())
    }

    /// F(x) = (x1x2, x3x4, …) (n × k).
    pub fn features(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        self.validate()?;
        check_dim(x, self.d)?;
        Ok(Matrix::from_fn(x.rows(), self.k(), |i, t| {
            x.get(i, 2 * t) * x.get(i, 2 * t + 1)
        }))
    }

    /// G(F): output j is Π_{t ∈ g_sets[j]} F_t (n × k).
    pub fn composite(&self, f: &Matrix<f64>) -> Result<Matrix<f64>> {
        self.validate()?;
        if f.cols() != self.k() {
            return Err(Error::Shape(format!(
                "F with {} coordinates for G on {}",
                f.cols(),
                self.k()
            )));
        }
        Ok(Matrix::from_fn(f.rows(), self.k(), |i, j| {
            self.g_sets[j].iter().map(|&t| f.get(i, t)).product()
        }))
    }

    /// H(x) = βF(x) + αG(F(x)) (n × k).
    pub fn eval(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        let f = self.features(x)?;
        let g = self.composite(&f)?;
        Ok(Matrix::from_fn(x.rows(), self.k(), |i, j| {
            self.beta * f.get(i, j) + self.alpha * g.get(i, j)
        }))
    }

    /// `n` inputs uniform on {−1, 1}^d and their targets H(x).
    pub fn sample(&self, n: usize, seed: u64) -> Result<(Matrix<f64>, Matrix<f64>)> {
        self.validate()?;
        let mut g = rng::stream(seed, "resnet-fig2-x");
        let x = hypercube(n, self.d, 1.0, &mut g);
        let y = self.eval(&x)?;
        Ok((x, y))
    }
}

/// Theorem 2's hard instance for kernel methods (seed 003, §7):
/// H(x) = βW*x + α G(W*x), W* = √d(e_{i1}, …, e_{ik}) (row j of W* is √d e_{ij}ᵀ),
/// G(y) = (Π_{j∈[k]} y_j)_{i∈[k]} (every output is the product of all k
/// coordinates), x uniform on {±1/√d}^d, so F(x) ∈ {±1}^k and G(F) ∈ {±1}.
/// The seed has β = 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thm2Target {
    /// Input dimension d.
    pub d: usize,
    /// The distinct coordinates i_1, …, i_k (0-based).
    pub indices: Vec<usize>,
    /// Weight α of G(F).
    pub alpha: f64,
    /// Weight β of F (1 in the seed).
    pub beta: f64,
}

impl Thm2Target {
    /// k distinct coordinates drawn uniformly from [d] (stream "resnet-thm2-indices"
    /// of `seed`), β = 1.
    pub fn random(d: usize, k: usize, alpha: f64, seed: u64) -> Result<Self> {
        if k == 0 || k > d {
            return Err(Error::invalid(
                "k",
                format!("need 1 <= k <= d distinct coordinates, got k = {k}, d = {d}"),
            ));
        }
        let mut g = rng::stream(seed, "resnet-thm2-indices");
        let indices = rng::permutation(&mut g, d)[..k].to_vec();
        let t = Thm2Target {
            d,
            indices,
            alpha,
            beta: 1.0,
        };
        t.validate()?;
        Ok(t)
    }

    /// Number of outputs k.
    pub fn k(&self) -> usize {
        self.indices.len()
    }

    /// Checks the indices and finite α, β.
    pub fn validate(&self) -> Result<()> {
        if self.indices.is_empty() {
            return Err(Error::invalid(
                "indices",
                "at least one coordinate is needed",
            ));
        }
        check_indices("indices", &self.indices, self.d, "x")?;
        if !(self.alpha.is_finite() && self.beta.is_finite()) {
            return Err(Error::invalid("alpha/beta", "must be finite"));
        }
        Ok(())
    }

    /// W* (k × d): row j is √d e_{i_j}ᵀ.
    pub fn w_star(&self) -> Matrix<f64> {
        let s = (self.d as f64).sqrt();
        let mut w = Matrix::zeros(self.k(), self.d);
        for (j, &i) in self.indices.iter().enumerate() {
            w.set(j, i, s);
        }
        w
    }

    /// F(x) = W*x (n × k): F_j = √d x_{i_j}.
    pub fn features(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        self.validate()?;
        check_dim(x, self.d)?;
        let s = (self.d as f64).sqrt();
        Ok(Matrix::from_fn(x.rows(), self.k(), |r, j| {
            s * x.get(r, self.indices[j])
        }))
    }

    /// G(F) = (Π_j F_j)_{i∈[k]} (n × k): every output is the product of F's k coordinates.
    pub fn composite(&self, f: &Matrix<f64>) -> Matrix<f64> {
        let prods: Vec<f64> = (0..f.rows()).map(|r| f.row(r).iter().product()).collect();
        Matrix::from_fn(f.rows(), f.cols(), |r, _| prods[r])
    }

    /// H(x) = βF(x) + α(Π_j F_j(x)) in every output (n × k).
    pub fn eval(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        let f = self.features(x)?;
        let g = self.composite(&f);
        Ok(Matrix::from_fn(f.rows(), self.k(), |r, j| {
            self.beta * f.get(r, j) + self.alpha * g.get(r, j)
        }))
    }

    /// `n` inputs uniform on {±1/√d}^d and their targets.
    pub fn sample(&self, n: usize, seed: u64) -> Result<(Matrix<f64>, Matrix<f64>)> {
        self.validate()?;
        let mut g = rng::stream(seed, "resnet-thm2-x");
        let x = hypercube(n, self.d, 1.0 / (self.d as f64).sqrt(), &mut g);
        let y = self.eval(&x)?;
        Ok((x, y))
    }
}

/// Figure 3's target (seed 003, App. A.1): y = d^{p/2} x_{i1}⋯x_{ip} with p = 6
/// (d³ x_{i1}⋯x_{i6}), x uniform on {±1/√d}^d, so y ∈ {−1, +1}.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fig3Target {
    /// Input dimension d (40 in the seed).
    pub d: usize,
    /// The distinct coordinates of the parity (six in the seed, 0-based).
    pub indices: Vec<usize>,
}

impl Fig3Target {
    /// Six distinct coordinates drawn uniformly from [d] (stream
    /// "resnet-fig3-indices" of `seed`).
    pub fn random(d: usize, seed: u64) -> Result<Self> {
        if d < 6 {
            return Err(Error::invalid(
                "d",
                format!("Figure 3's degree-6 parity needs d >= 6, got {d}"),
            ));
        }
        let mut g = rng::stream(seed, "resnet-fig3-indices");
        let indices = rng::permutation(&mut g, d)[..6].to_vec();
        Ok(Fig3Target { d, indices })
    }

    /// Checks the indices.
    pub fn validate(&self) -> Result<()> {
        if self.indices.is_empty() {
            return Err(Error::invalid(
                "indices",
                "at least one coordinate is needed",
            ));
        }
        check_indices("indices", &self.indices, self.d, "x")
    }

    /// y = d^{p/2} Π_t x_{i_t} (n × 1).
    pub fn eval(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        self.validate()?;
        check_dim(x, self.d)?;
        let scale = (self.d as f64).powf(self.indices.len() as f64 / 2.0);
        Ok(Matrix::from_fn(x.rows(), 1, |r, _| {
            scale * self.indices.iter().map(|&i| x.get(r, i)).product::<f64>()
        }))
    }

    /// `n` inputs uniform on {±1/√d}^d and their labels (n × 1).
    pub fn sample(&self, n: usize, seed: u64) -> Result<(Matrix<f64>, Matrix<f64>)> {
        self.validate()?;
        let mut g = rng::stream(seed, "resnet-fig3-x");
        let x = hypercube(n, self.d, 1.0 / (self.d as f64).sqrt(), &mut g);
        let y = self.eval(&x)?;
        Ok((x, y))
    }
}
