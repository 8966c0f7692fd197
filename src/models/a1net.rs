//! Seed 003 App. A.1's two-layer network, the learner of Figure 3
//! ("SGD does not converge to minimal norm solution"), and footnote 13's
//! construction of small-norm solutions from a small net ([`A1Net::embed`]).
//!
//! Footnote 13 made exact. The d₀ = 6 inputs are ±1/√6 and the d = 40 inputs
//! ±1/√40, so zero-padding alone changes the pre-activations by √(6/40); the
//! padded weights are multiplied by √(d/d₀) so that each neuron sees the same
//! value on inputs with the same six signs. Copy q of source row j (c_j copies in
//! all) is scaled by γ_j = √m/(c_j√m₀), which keeps Σ_copies (±1/√m) γ_j σ(w_j·x) =
//! (±1/√m₀) σ(w_j·x) by positive homogeneity of σ, so the embedded net computes
//! exactly the d₀ net's function of the six relevant signs. When m is a multiple
//! of m₀ (c_j = m/m₀), ‖W*‖²_F = (d/d₀)‖W‖²_F: the norm in units of √d is the d₀
//! net's ‖W‖_F/√d₀, for every d and m (why the paper can state it "for every
//! even m ≥ 200 and every d ≥ 6"); otherwise c_j ∈ {⌊m/m₀⌋, ⌈m/m₀⌉}, the extra
//! copies going to the rows of largest norm (whose share of ‖W*‖² shrinks), and
//! the norm is measured.

use crate::error::{Error, Result};
use crate::linalg::{matmul, Matrix};
use crate::models::learner::{residual, Learner};
use crate::rng;

/// App. A.1's two-layer network F(W; x) = aᵀσ(Wx): no biases, a ∈ {±1/√m}^m fixed
/// with a_r = +1/√m for r < m/2 and −1/√m for r ≥ m/2, W (m × d) trained. The
/// loss is the [`Learner`] convention L = (1/2n) Σ_i (F(W; x_i) − y_i)².
#[derive(Clone, Debug, PartialEq)]
pub struct A1Net {
    /// Hidden weights W (m × d), trained.
    pub w: Matrix<f64>,
}

impl A1Net {
    /// A net of even width m on R^d with W ~ N(0, 1/d) (App. A's initialization of
    /// input weights), drawn from `rng::stream(seed, "a1net-init")`.
    pub fn new(d: usize, m: usize, seed: u64) -> Result<Self> {
        if d == 0 {
            return Err(Error::invalid("d", "input dimension must be positive"));
        }
        check_width(m)?;
        let mut g = rng::stream(seed, "a1net-init");
        let s = 1.0 / (d as f64).sqrt();
        Ok(A1Net {
            w: Matrix::from_fn(m, d, |_, _| s * rng::normal(&mut g)),
        })
    }

    /// The net with hidden weights `w` (its width must be even and positive).
    pub fn from_weights(w: Matrix<f64>) -> Result<Self> {
        check_width(w.rows())?;
        if w.cols() == 0 {
            return Err(Error::invalid("d", "input dimension must be positive"));
        }
        Ok(A1Net { w })
    }

    /// Width m.
    pub fn width(&self) -> usize {
        self.w.rows()
    }

    /// a_r: +1/√m for the first half of the neurons, −1/√m for the second.
    pub fn output_weight(&self, r: usize) -> f64 {
        let m = self.width();
        let s = 1.0 / (m as f64).sqrt();
        if r < m / 2 {
            s
        } else {
            -s
        }
    }

    /// ‖W‖_F / √d: the Frobenius norm in the seed's units.
    pub fn norm_over_sqrt_d(&self) -> f64 {
        self.w.frobenius() / (self.w.cols() as f64).sqrt()
    }

    /// Footnote 13's construction (module documentation): the net on R^d, of even
    /// width m ≥ this width, that computes on every x ∈ {±1/√d}^d exactly what this
    /// net (on R^{d₀}, d₀ = `coords.len()` = its input dimension) computes on the
    /// signs of x at `coords`, scaled to ±1/√d₀. Column t of W goes to column
    /// coords[t] multiplied by √(d/d₀), the other columns are zero; each source
    /// neuron gets c_j ∈ {⌊m/m₀⌋, ⌈m/m₀⌉} copies among the new neurons of its sign
    /// (the extra copies to the rows of largest norm), each scaled by
    /// √m/(c_j √m₀). At a multiple of m₀, ‖W*‖_F/√d = ‖W‖_F/√d₀ exactly.
    pub fn embed(&self, d: usize, coords: &[usize], m: usize) -> Result<A1Net> {
        let (m0, d0) = self.w.shape();
        if coords.len() != d0 {
            return Err(Error::invalid(
                "coords",
                format!("{} coordinates for a net on d0 = {d0}", coords.len()),
            ));
        }
        for (a, &c) in coords.iter().enumerate() {
            if c >= d {
                return Err(Error::invalid(
                    "coords",
                    format!("coordinate {c} out of range for d = {d}"),
                ));
            }
            if coords[..a].contains(&c) {
                return Err(Error::invalid(
                    "coords",
                    format!("coordinate {c} appears twice"),
                ));
            }
        }
        check_width(m)?;
        if m < m0 {
            return Err(Error::invalid(
                "width",
                format!("cannot keep the function of a width-{m0} net at width {m} < {m0}"),
            ));
        }
        let (h0, h) = (m0 / 2, m / 2);
        let pad = (d as f64 / d0 as f64).sqrt();
        let row_norm2 = |j: usize| self.w.row(j).iter().map(|v| v * v).sum::<f64>();
        let mut w = Matrix::zeros(m, d);
        let mut q = 0;
        for half in 0..2 {
            // every source row of this sign gets h / h0 copies; the h mod h0 extra
            // copies go to the rows of largest norm, whose copies then shrink most
            let mut order: Vec<usize> = (half * h0..(half + 1) * h0).collect();
            order.sort_by(|&i, &j| row_norm2(j).total_cmp(&row_norm2(i)).then(i.cmp(&j)));
            let mut copies = vec![h / h0; m0];
            for &j in &order[..h % h0] {
                copies[j] += 1;
            }
            for (j, &c_j) in copies.iter().enumerate().skip(half * h0).take(h0) {
                let gamma = (m as f64).sqrt() / (c_j as f64 * (m0 as f64).sqrt());
                for _ in 0..c_j {
                    for (t, &c) in coords.iter().enumerate() {
                        w.set(q, c, pad * gamma * self.w.get(j, t));
                    }
                    q += 1;
                }
            }
        }
        debug_assert_eq!(q, m);
        Ok(A1Net { w })
    }
}

/// App. A.1's widths: even and at least 2 (m/2 output weights of each sign).
pub fn check_width(m: usize) -> Result<()> {
    if m < 2 || !m.is_multiple_of(2) {
        return Err(Error::invalid(
            "width",
            format!("App. A.1's net needs an even width m >= 2 (m/2 of each sign of a), got {m}"),
        ));
    }
    Ok(())
}

impl A1Net {
    fn check_input(&self, x: &Matrix<f64>) -> Result<()> {
        if x.cols() != self.w.cols() {
            return Err(Error::Shape(format!(
                "inputs with {} columns for a net on d = {}",
                x.cols(),
                self.w.cols()
            )));
        }
        Ok(())
    }

    /// a as a vector.
    fn output_weights(&self) -> Vec<f64> {
        (0..self.width()).map(|r| self.output_weight(r)).collect()
    }

    /// Pre-activations P = X Wᵀ (n × m) and outputs σ(P) a (n × 1).
    fn pass(&self, x: &Matrix<f64>) -> Result<(Matrix<f64>, Matrix<f64>)> {
        self.check_input(x)?;
        let p = matmul(x.view(), self.w.t())?;
        let a = self.output_weights();
        let out = Matrix::from_fn(x.rows(), 1, |i, _| {
            p.row(i)
                .iter()
                .zip(&a)
                .map(|(&v, ar)| ar * v.max(0.0))
                .sum()
        });
        Ok((p, out))
    }
}

impl Learner for A1Net {
    fn name(&self) -> &'static str {
        "a1-2layer"
    }
    fn input_dim(&self) -> usize {
        self.w.cols()
    }
    fn output_dim(&self) -> usize {
        1
    }
    fn forward(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        Ok(self.pass(x)?.1)
    }
    /// ∂L/∂W = ((g aᵀ) ⊙ 1{P ≥ 0})ᵀ X, g = (out − y)/n.
    fn loss_and_grads(&self, x: &Matrix<f64>, y: &Matrix<f64>) -> Result<(f64, Vec<Matrix<f64>>)> {
        let (p, out) = self.pass(x)?;
        let (loss, g) = residual(&out, y)?;
        let mut dp = p;
        let a = self.output_weights();
        for (i, row) in dp.as_mut_slice().chunks_mut(a.len()).enumerate() {
            let gi = g.get(i, 0);
            for (v, ar) in row.iter_mut().zip(&a) {
                *v = if *v >= 0.0 { gi * ar } else { 0.0 };
            }
        }
        Ok((loss, vec![matmul(dp.t(), x.view())?]))
    }
    fn params(&self) -> Vec<&Matrix<f64>> {
        vec![&self.w]
    }
    fn params_mut(&mut self) -> Vec<&mut Matrix<f64>> {
        vec![&mut self.w]
    }
}
