//! The [`Learner`] trait: a network trained by [`crate::train::sgd`] (seed 003 App. A's
//! SGD), implemented by the learners of [`crate::models::resnet`] and
//! [`crate::models::a1net`], and [`residual`], the loss every learner shares:
//! Obj = ½‖out(x) − y‖²₂ (seed 003 eq. 6.1) averaged over the rows of the batch.

use crate::error::{Error, Result};
use crate::linalg::Matrix;

/// A learner trained by [`crate::train::sgd`]: a network whose trained
/// parameters form a list of matrices ("groups"), each with its own
/// learning-rate multiplier.
pub trait Learner: Send {
    /// Short name used in reports ("3resnet", "3layer", "2layer", "last", "ntk").
    fn name(&self) -> &'static str;
    /// Input dimension d.
    fn input_dim(&self) -> usize;
    /// Output dimension k.
    fn output_dim(&self) -> usize;
    /// Outputs for a batch: x is n × d, the result n × k.
    fn forward(&self, x: &Matrix<f64>) -> Result<Matrix<f64>>;
    /// L = (1/2n) Σ_i ‖out(x_i) − y_i‖² and ∂L/∂θ for every trained group, in
    /// the order of [`Learner::params`].
    fn loss_and_grads(&self, x: &Matrix<f64>, y: &Matrix<f64>) -> Result<(f64, Vec<Matrix<f64>>)>;
    /// The trained parameter groups.
    fn params(&self) -> Vec<&Matrix<f64>>;
    /// The trained parameter groups, mutable (same order as [`Learner::params`]).
    fn params_mut(&mut self) -> Vec<&mut Matrix<f64>>;
    /// Learning-rate multiplier of each group (1 for all but ResNet3's V).
    fn lr_multipliers(&self) -> Vec<f64> {
        vec![1.0; self.params().len()]
    }
    /// Number of trained scalars.
    fn num_trained(&self) -> usize {
        self.params().iter().map(|p| p.rows() * p.cols()).sum()
    }
    /// The loss L alone (one forward pass).
    fn loss(&self, x: &Matrix<f64>, y: &Matrix<f64>) -> Result<f64> {
        let out = self.forward(x)?;
        Ok(residual(&out, y)?.0)
    }
}

/// L = (1/2n) Σ_i ‖out_i − y_i‖² and its gradient with respect to out, (out − y)/n.
pub fn residual(out: &Matrix<f64>, y: &Matrix<f64>) -> Result<(f64, Matrix<f64>)> {
    if out.shape() != y.shape() {
        return Err(Error::Shape(format!(
            "outputs {}x{} against targets {}x{}",
            out.rows(),
            out.cols(),
            y.rows(),
            y.cols()
        )));
    }
    let n = out.rows();
    if n == 0 {
        return Err(Error::invalid("batch", "no samples"));
    }
    let inv = 1.0 / n as f64;
    let mut g = out.clone();
    let mut s = 0.0;
    for (gv, yv) in g.as_mut_slice().iter_mut().zip(y.as_slice()) {
        let r = *gv - yv;
        s += r * r;
        *gv = r * inv;
    }
    Ok((0.5 * s * inv, g))
}
