//! The ReLU arc-cosine map, written once for every ReLU kernel widenet has.
//!
//! For centred Gaussians (u, v) with correlation ρ = cos θ, Cho and Saul's
//! angular functions are
//!
//! - J₀(θ) = π − θ, with E[1{u > 0}1{v > 0}] = J₀/(2π) (degree 0: the ReLU
//!   derivative; seed 001 eq. 3's (π − θ)/(2π), seed 004 eq. 28's Σ = J₀/π);
//! - J₁(θ) = sin θ + (π − θ) cos θ, with E[relu(u)relu(v)] = √(Var u Var v) J₁/(2π)
//!   (degree 1: the ReLU itself; the fc-NNGP layer map of seed 003 §3, seed 004
//!   eq. 25's κ = √(q₁q₂) J₁/π for He-scaled weights).
//!
//! H^∞ ([`crate::kernels::relu_ntk`]), the fully connected NTK/NNGP
//! ([`crate::kernels::fc`]) and the infinite-width recurrent NTK
//! ([`crate::kernels::rnn_infinite`]) all take J₀ and J₁ from [`relu_j`]; each
//! applies its own normalization (1/(2π) or 1/π) in the order it always had, so
//! their values are unchanged bit for bit.

use std::f64::consts::PI;

/// (J₀, J₁) for a correlation `rho` already clamped to [−1, 1] and its angle
/// `theta` = arccos(rho) (passed in so that vectorized callers can use a
/// branch-free arccos): J₀ = π − θ, J₁ = √(1 − ρ²) + (π − θ)ρ.
#[inline(always)]
pub fn relu_j(rho: f64, theta: f64) -> (f64, f64) {
    let j0 = PI - theta;
    let j1 = (1.0 - rho * rho).max(0.0).sqrt() + j0 * rho;
    (j0, j1)
}

/// [`relu_j`] of a correlation clamped to [−1, 1], with libm's arccos.
#[inline(always)]
pub fn relu_j_of(rho: f64) -> (f64, f64) {
    let r = rho.clamp(-1.0, 1.0);
    relu_j(r, r.acos())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// J₀/(2π) and J₁/(2π) against a Monte-Carlo estimate of the two Gaussian
    /// expectations they stand for.
    #[test]
    fn j_functions_are_the_gaussian_expectations() {
        let mut g = crate::rng::stream(3, "test/arccos");
        let m = 400_000;
        for rho in [-0.9, -0.3, 0.0, 0.5, 0.95] {
            let (mut e0, mut e1) = (0.0, 0.0);
            for _ in 0..m {
                let a = crate::rng::normal(&mut g);
                let b = crate::rng::normal(&mut g);
                let u = a;
                let v = rho * a + (1.0f64 - rho * rho).sqrt() * b;
                if u > 0.0 && v > 0.0 {
                    e0 += 1.0;
                    e1 += u * v;
                }
            }
            let (j0, j1) = relu_j_of(rho);
            let (e0, e1) = (e0 / m as f64, e1 / m as f64);
            assert!((e0 - j0 / (2.0 * PI)).abs() < 4e-3, "rho {rho}: {e0} vs J0");
            assert!((e1 - j1 / (2.0 * PI)).abs() < 6e-3, "rho {rho}: {e1} vs J1");
        }
        assert_eq!(relu_j_of(1.0), (PI, 1.0 * PI));
        assert_eq!(relu_j_of(2.0), relu_j_of(1.0));
    }
}
