//! Seed 001 eq. 8 at large n (exact over the top-k pairs, Gauss quadrature
//! for the rest of the spectrum, rigorous bounds), and the error bounds of
//! Ritz values.

/// Estimated errors of the Ritz values θ_i, i < `kk` (`vals` descending, with
/// residual norms `resid`; `tail` the further Ritz values below them): the
/// smallest quadratic residual bound ‖R_C‖²_F/gap_C over windows C ∋ i of up to
/// 32 consecutive Ritz values, gap_C the distance from C to its nearest outside
/// neighbours. A window of one is the usual ‖r_i‖²/gap_i; wider windows keep the
/// members of a tight cluster (whose own gaps are tiny) from counting as
/// unconverged when the cluster as a whole is well separated: the block form of
/// the quadratic residual bound (Mathias, Linear Algebra Appl. 1998), with the
/// outside spectrum represented by the other Ritz values as for a single pair.
pub(super) fn ritz_error_bounds(vals: &[f64], resid: &[f64], tail: &[f64], kk: usize) -> Vec<f64> {
    const WINDOW: usize = 32;
    let c = vals.len();
    let all: Vec<f64> = vals.iter().chain(tail).cloned().collect();
    let mut pre = vec![0.0; c + 1];
    for i in 0..c {
        pre[i + 1] = pre[i] + resid[i] * resid[i];
    }
    (0..kk.min(c))
        .map(|i| {
            let mut best = f64::INFINITY;
            for a in i.saturating_sub(WINDOW - 1)..=i {
                for b in i..c.min(a + WINDOW) {
                    let left = if a > 0 {
                        (all[a - 1] - all[a]).abs()
                    } else {
                        f64::INFINITY
                    };
                    let right = if b + 1 < all.len() {
                        (all[b] - all[b + 1]).abs()
                    } else {
                        f64::INFINITY
                    };
                    let gap = left.min(right);
                    if gap > 0.0 {
                        best = best.min((pre[b + 1] - pre[a]) / gap);
                    }
                }
            }
            best
        })
        .collect()
}

pub fn loss_curves(
    top: &[(f64, f64)],
    tail: &[(f64, f64)],
    rest: f64,
    lam_k: f64,
    eta: f64,
    steps: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let tail_sum: f64 = tail.iter().map(|t| t.1).sum();
    let scale = if tail_sum > 0.0 { rest / tail_sum } else { 0.0 };
    let mut top_t: Vec<f64> = top.iter().map(|t| t.1).collect();
    let top_r: Vec<f64> = top.iter().map(|t| (1.0 - eta * t.0).powi(2)).collect();
    let mut tail_t: Vec<f64> = tail.iter().map(|t| t.1 * scale).collect();
    let tail_r: Vec<f64> = tail.iter().map(|t| (1.0 - eta * t.0).powi(2)).collect();
    let rk = (1.0 - eta * lam_k).powi(2);
    let mut gk = 1.0; // (1 − ηλ_k)^{2t}
    let (mut mid, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
    for t in 0..=steps {
        if t > 0 {
            top_t.iter_mut().zip(&top_r).for_each(|(a, r)| *a *= r);
            tail_t.iter_mut().zip(&tail_r).for_each(|(a, r)| *a *= r);
            gk *= rk;
        }
        let top_sum: f64 = top_t.iter().sum();
        let tail_mass = if tail_sum > 0.0 {
            tail_t.iter().sum::<f64>()
        } else {
            rest * gk
        };
        // over λ ∈ [0, λ_k]: max of (1 − ηλ)^{2t} is at an end point; the min is 0
        // when 1/η lies inside, else at λ_k
        let gmax = gk.max(1.0);
        let gmin = if eta * lam_k >= 1.0 { 0.0 } else { gk };
        mid.push(0.5 * (top_sum + tail_mass));
        lo.push(0.5 * (top_sum + rest * gmin));
        hi.push(0.5 * (top_sum + rest * gmax));
    }
    (mid, lo, hi)
}
