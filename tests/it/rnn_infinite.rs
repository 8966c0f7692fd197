//! The infinite-width recurrent NTK (src/kernels/rnn_infinite.rs) against independent
//! references: the Hermite series of eq. 25, Monte-Carlo Gaussian expectations and the empirical
//! NTK of finite networks (src/kernels/rnn_ntk.rs) as the width grows.

use widenet::kernels::rnn_infinite::{
    arccos_map, arccos_map_series, arccos_map_unit, backward_correlations, derivative_map,
    forward_correlations, hermite_coefficients, relu_hermite_coefficients, rnn_ntk_infinite,
};
use widenet::linalg::{sym_eigenvalues, Matrix};
use widenet::models::rnn::{Preset, Rnn};
use widenet::models::rnn_ntk::{output_deltas, rnn_ntk_with_blocks};
use widenet::rng;

fn rel_frob(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    let diff = Matrix::from_fn(a.rows(), a.cols(), |i, j| a.get(i, j) - b.get(i, j));
    diff.frobenius() / b.frobenius()
}

/// L step matrices n × d with N(0, 1) entries scaled by `scale`.
fn inputs(n: usize, len: usize, d: usize, scale: f64, seed: u64) -> Vec<Matrix<f64>> {
    let mut g = rng::stream(seed, "test/rnn-infinite/x");
    (0..len)
        .map(|_| Matrix::from_fn(n, d, |_, _| scale * rng::normal(&mut g)))
        .collect()
}

#[test]
fn hermite_coefficients_match_their_closed_form() {
    let a = relu_hermite_coefficients(12);
    let c = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    let fact = |k: u64| (1..=k).map(|v| v as f64).product::<f64>();
    let dfact = |k: i64| {
        let mut p = 1.0;
        let mut v = k;
        while v > 1 {
            p *= v as f64;
            v -= 2;
        }
        p
    };
    assert!((a[0] - c).abs() < 1e-15 && (a[1] - 0.5).abs() < 1e-15);
    for (r, &ar) in a.iter().enumerate().skip(2) {
        let want = if r % 2 == 1 {
            0.0
        } else {
            let k = (r / 2) as i64;
            let sign = if (k + 1) % 2 == 0 { 1.0 } else { -1.0 };
            sign * dfact(2 * k - 3) * c / fact(r as u64).sqrt()
        };
        assert!((ar - want).abs() < 1e-14, "a_{r} = {ar} vs {want}");
    }
    // Σ a_r² = E[relu(z)²] = ½ (tail ~ terms^{-3/2}); μ = √2 a sums to 1
    let mu = hermite_coefficients(200_000);
    let s: f64 = mu.iter().map(|m| m * m).sum();
    assert!((s - 1.0).abs() < 1e-6, "Σ μ_r² = {s}");
    assert!((mu[0] - 1.0 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
    assert!((mu[1] - 0.5f64.sqrt()).abs() < 1e-15);
    // a_r by quadrature: ∫_0^∞ x He_r(x) φ(x) dx / √(r!)
    for (r, &ar) in a.iter().enumerate().take(8) {
        let (steps, top) = (200_000, 12.0);
        let hgrid = top / steps as f64;
        let mut acc = 0.0;
        for t in 0..=steps {
            let x = t as f64 * hgrid;
            let (mut h0, mut h1) = (1.0, x);
            let he = if r == 0 {
                1.0
            } else {
                for k in 1..r {
                    let h2 = x * h1 - k as f64 * h0;
                    h0 = h1;
                    h1 = h2;
                }
                h1
            };
            let w = if t == 0 || t == steps { 0.5 } else { 1.0 };
            acc += w * x * he * (-0.5 * x * x).exp() * c;
        }
        let q = acc * hgrid / fact(r as u64).sqrt();
        assert!((q - ar).abs() < 1e-8, "quadrature a_{r} = {q} vs {ar}");
    }
}

#[test]
fn arccos_closed_form_matches_hermite_series() {
    for t in 0..=36 {
        let rho = -0.9 + 0.05 * t as f64;
        let (c, s) = (arccos_map_unit(rho), arccos_map_series(rho, 400));
        assert!((c - s).abs() < 1e-10, "ρ = {rho}: closed {c} vs series {s}");
    }
    for &rho in &[-1.0, -0.99, 0.99, 1.0] {
        let (c, s) = (arccos_map_unit(rho), arccos_map_series(rho, 20_000));
        assert!((c - s).abs() < 1e-5, "ρ = {rho}: closed {c} vs series {s}");
    }
    assert!((arccos_map_unit(1.0) - 1.0).abs() < 1e-15);
    assert!(arccos_map_unit(-1.0).abs() < 1e-15);
    assert!((arccos_map(1.0, 2.5, 2.5) - 2.5).abs() < 1e-14);
    assert_eq!(arccos_map(0.3, 0.0, 4.0), 0.0);
    // Σ(x) = ½ + arcsin(x)/π = (π − arccos x)/π
    for t in 0..=20 {
        let x = -1.0 + 0.1 * t as f64;
        let want = (std::f64::consts::PI - x.acos()) / std::f64::consts::PI;
        assert!((derivative_map(x) - want).abs() < 1e-14);
    }
}

#[test]
fn arccos_map_and_derivative_match_monte_carlo() {
    let mut g = rng::stream(7, "test/rnn-infinite/mc");
    let samples = 2_000_000;
    for &(rho, q1, q2) in &[(0.6, 1.0, 1.0), (-0.4, 2.0, 0.5), (0.95, 0.3, 3.0)] {
        let (s1, s2) = (f64::sqrt(q1), f64::sqrt(q2));
        let (mut acc, mut both) = (0.0, 0.0);
        for _ in 0..samples {
            let z1 = rng::normal(&mut g);
            let z2 = rng::normal(&mut g);
            let u = s1 * z1;
            let v = s2 * (rho * z1 + (1.0 - rho * rho).sqrt() * z2);
            acc += u.max(0.0) * v.max(0.0);
            if u > 0.0 && v > 0.0 {
                both += 1.0;
            }
        }
        let mc = 2.0 * acc / samples as f64;
        let cf = arccos_map(rho, q1, q2);
        assert!(
            (mc - cf).abs() < 5e-3 * (q1 * q2).sqrt(),
            "ρ = {rho}: MC {mc} vs {cf}"
        );
        let mcd = 2.0 * both / samples as f64;
        assert!(
            (mcd - derivative_map(rho)).abs() < 3e-3,
            "Σ({rho}): MC {mcd}"
        );
    }
}

/// The mean over `seeds` networks of the empirical NTK, its cross-time part, and the mean
/// per-seed relative error against `h_inf`.
fn empirical_mean(
    preset: Preset,
    xs: &[Matrix<f64>],
    m: usize,
    seeds: u64,
    h_inf: &Matrix<f64>,
) -> (Matrix<f64>, f64, f64) {
    let n = xs[0].rows();
    let (len, d) = (xs.len(), xs[0].cols());
    let mut mean = Matrix::<f64>::zeros(n, n);
    let mut cross = 0.0;
    let mut single = 0.0;
    for s in 0..seeds {
        let d_out = if preset == Preset::Wang { 1 } else { 2 };
        let net = Rnn::<f64>::init(preset, m, d, d_out, len, 1000 + s).unwrap();
        let k = rnn_ntk_with_blocks(&net, xs).unwrap();
        for (o, v) in mean.as_mut_slice().iter_mut().zip(k.h.as_slice()) {
            *o += v / seeds as f64;
        }
        cross += k.cross.frobenius() / h_inf.frobenius() / seeds as f64;
        single += rel_frob(&k.h, h_inf) / seeds as f64;
    }
    (mean, cross, single)
}

/// Fitted exponent p of err ≈ c·m^{−p} (least squares in log-log).
fn fitted_rate(widths: &[usize], errs: &[f64]) -> f64 {
    let xs: Vec<f64> = widths.iter().map(|&m| (m as f64).ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let k = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / k, ys.iter().sum::<f64>() / k);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    -sxy / sxx
}

/// Per width: (error of the seed mean, mean single-seed error, mean cross-time fraction).
fn convergence(
    preset: Preset,
    xs: &[Matrix<f64>],
    widths: &[usize],
    seeds: u64,
) -> Vec<(f64, f64, f64)> {
    let h = rnn_ntk_infinite(preset, xs).unwrap();
    let mut out = Vec::new();
    for &m in widths {
        let (mean, cross, single) = empirical_mean(preset, xs, m, seeds, &h);
        let e = rel_frob(&mean, &h);
        eprintln!(
            "{preset:?} m = {m}: rel. error of the {seeds}-seed mean {e:.4e}, \
             mean single-seed error {single:.4e}, cross/H∞ {cross:.4e}"
        );
        out.push((e, single, cross));
    }
    out
}

/// Measured (release, n = 4, L = 3, d_in = 3, 8 seeds; see the module docs of
/// src/kernels/rnn_infinite.rs): single-seed relative error ≈ m^{−0.5..−0.6}, the 8-seed mean
/// within 1-3% at m = 4096, the cross-time part ≈ 1% of H^∞ at m = 4096 (4-5% at m = 256).
fn check_convergence(preset: Preset, mean_tol: f64) {
    let xs = inputs(4, 3, 3, 0.7, 1);
    let widths = [256, 1024, 4096];
    let r = convergence(preset, &xs, &widths, 8);
    let single: Vec<f64> = r.iter().map(|t| t.1).collect();
    let rate = fitted_rate(&widths, &single);
    eprintln!("{preset:?}: fitted single-seed rate m^-{rate:.3}");
    assert!(
        single[0] > single[1] && single[1] > single[2],
        "{preset:?}: single-seed errors {single:?} do not decrease"
    );
    assert!(rate > 0.3, "{preset:?}: rate {rate}");
    assert!(
        r[2].0 < mean_tol,
        "{preset:?}: mean error {} at m = 4096",
        r[2].0
    );
    assert!(r[0].0 > r[2].0, "{preset:?}: mean error does not decrease");
    // the cross-time part vanishes (Theorem 6)
    assert!(
        r[2].2 < 0.5 * r[0].2 && r[2].2 < 0.025,
        "{preset:?}: cross {:?}",
        r
    );
}

#[test]
fn elman_empirical_ntk_converges_to_the_infinite_width_kernel() {
    check_convergence(Preset::Elman, 0.04);
}

#[test]
fn wang_empirical_ntk_converges_to_the_infinite_width_kernel() {
    check_convergence(Preset::Wang, 0.07);
}

/// K^ℓ against ⟨h_{iℓ}, h_{jℓ}⟩ and F^ℓ against ⟨b_{iℓ}, b_{jℓ}⟩/(m σ_B²), averaged over 24 networks
/// of width 2048 (measured: K within 1% (Elman) / 2-4% (Wang, norm fluctuations of the shared
/// h_0 compound over time), F within 1-4.5%);
/// also checks that the forward cross-time products ⟨h_{iℓ}, h_{j,ℓ+1}⟩ do not vanish while
/// the backward ones do.
#[test]
fn forward_and_backward_correlations_match_a_wide_network() {
    let (n, len, d, m) = (4, 4, 3, 2048);
    let xs = inputs(n, len, d, 0.7, 2);
    for preset in [Preset::Elman, Preset::Wang] {
        let k = forward_correlations(preset, &xs).unwrap();
        let f = backward_correlations(preset, &xs).unwrap();
        assert_eq!((k.len(), f.len()), (len + 1, len));
        let d_out = if preset == Preset::Wang { 1 } else { 2 };
        let nets = 24;
        // 1/(m σ_B²): σ_B² = 1/m (Wang), 1/d_out (Elman)
        let norm = match preset {
            Preset::Wang => 1.0,
            Preset::Elman => d_out as f64 / m as f64,
        };
        let inner = |a: &[f64], b: &[f64], i: usize, j: usize| -> f64 {
            a[i * m..(i + 1) * m]
                .iter()
                .zip(&b[j * m..(j + 1) * m])
                .map(|(x, y)| x * y)
                .sum()
        };
        // mean over `nets` networks of the per-step Gram matrices
        let mut emp_k = vec![Matrix::<f64>::zeros(n, n); len + 1];
        let mut emp_f = vec![Matrix::<f64>::zeros(n, n); len + 1];
        let mut hc = vec![Matrix::<f64>::zeros(n, n); len];
        let mut bc = vec![Matrix::<f64>::zeros(n, n); len];
        for s in 0..nets {
            let net = Rnn::<f64>::init(preset, m, d, d_out, len, 5 + s).unwrap();
            let (trace, deltas) = output_deltas(&net, &xs).unwrap();
            for l in 1..=len {
                for i in 0..n {
                    for j in 0..n {
                        let add = |mat: &mut Matrix<f64>, v: f64| {
                            mat.set(i, j, mat.get(i, j) + v / nets as f64)
                        };
                        add(&mut emp_k[l], inner(trace.h(l), trace.h(l), i, j));
                        add(
                            &mut emp_f[l],
                            norm * inner(deltas.delta(l), deltas.delta(l), i, j),
                        );
                        if l < len {
                            add(&mut hc[l], inner(trace.h(l), trace.h(l + 1), i, j));
                            add(
                                &mut bc[l],
                                norm * inner(deltas.delta(l), deltas.delta(l + 1), i, j),
                            );
                        }
                    }
                }
            }
        }
        let (mut fwd_cross, mut bwd_cross, mut bwd_same) = (0.0f64, 0.0f64, 0.0f64);
        for l in 1..=len {
            let (ek, ef) = (rel_frob(&emp_k[l], &k[l]), rel_frob(&emp_f[l], &f[l - 1]));
            eprintln!("{preset:?} ℓ = {l}: K rel. error {ek:.3e}, F rel. error {ef:.3e}");
            assert!(ek < 0.05, "{preset:?} K^{l}: {ek}");
            assert!(ef < 0.1, "{preset:?} F^{l}: {ef}");
            bwd_same = bwd_same.max(emp_f[l].frobenius());
            if l < len {
                fwd_cross = fwd_cross.max(hc[l].frobenius() / k[l].frobenius());
                bwd_cross = bwd_cross.max(bc[l].frobenius());
            }
        }
        eprintln!(
            "{preset:?}: max ‖⟨h_ℓ, h_ℓ+1⟩‖/‖K^ℓ‖ = {fwd_cross:.3}, \
             max ‖⟨b_ℓ, b_ℓ+1⟩‖ = {bwd_cross:.3e} vs same-time {bwd_same:.3e}"
        );
        assert!(fwd_cross > 0.3, "forward cross-time correlations are Θ(1)");
        assert!(
            bwd_cross < 0.1 * bwd_same,
            "backward cross-time correlations vanish"
        );
    }
}

#[test]
fn infinite_kernel_is_symmetric_psd_with_the_stated_diagonal() {
    let (n, len, d) = (30, 6, 4);
    let xs = inputs(n, len, d, 1.0, 3);
    for preset in [Preset::Elman, Preset::Wang] {
        let h = rnn_ntk_infinite(preset, &xs).unwrap();
        let k = forward_correlations(preset, &xs).unwrap();
        let f = backward_correlations(preset, &xs).unwrap();
        for i in 0..n {
            // H_ii = ½ Σ_ℓ K^{ℓ−1}_ii
            let want: f64 = 0.5 * (0..len).map(|l| k[l].get(i, i)).sum::<f64>();
            assert!((h.get(i, i) - want).abs() < 1e-12 * want.max(1.0));
            for j in 0..n {
                assert_eq!(h.get(i, j), h.get(j, i));
                let assembled: f64 = (0..len).map(|l| f[l].get(i, j) * k[l].get(i, j)).sum();
                assert!((h.get(i, j) - assembled).abs() < 1e-12 * assembled.abs().max(1.0));
            }
        }
        let ev = sym_eigenvalues(&h).unwrap();
        let (lo, hi) = (ev[0].min(ev[n - 1]), ev[0].max(ev[n - 1]));
        assert!(lo > -1e-10 * hi, "{preset:?}: smallest eigenvalue {lo}");
        // Wang: K^0 = 1 for every pair; Elman: K^0 = 0
        let k0 = if preset == Preset::Wang { 1.0 } else { 0.0 };
        assert!(k[0].as_slice().iter().all(|&v| v == k0));
        // K^ℓ_ii = K^0 + s Σ_{k≤ℓ} ‖x_{ik}‖²
        let s = if preset == Preset::Wang {
            1.0 / (len as f64).powi(3)
        } else {
            1.0
        };
        let q: f64 = k0
            + s * xs
                .iter()
                .map(|x| x.row(0).iter().map(|v| v * v).sum::<f64>())
                .sum::<f64>();
        assert!((k[len].get(0, 0) - q).abs() < 1e-12 * q);
    }
}

#[test]
fn infinite_kernel_rejects_bad_inputs_and_handles_zero_steps() {
    assert!(rnn_ntk_infinite(Preset::Elman, &[]).is_err());
    let bad = vec![Matrix::<f64>::zeros(3, 2), Matrix::<f64>::zeros(2, 2)];
    assert!(rnn_ntk_infinite(Preset::Wang, &bad).is_err());
    let mut nan = inputs(3, 2, 2, 1.0, 4);
    nan[1].set(0, 0, f64::NAN);
    assert!(rnn_ntk_infinite(Preset::Elman, &nan).is_err());
    // Elman with an all-zero first step: h_1 = 0, D_1 = 0; the kernel stays finite
    let mut xs = inputs(3, 3, 2, 1.0, 5);
    xs[0] = Matrix::zeros(3, 2);
    let h = rnn_ntk_infinite(Preset::Elman, &xs).unwrap();
    assert!(h.all_finite() && h.get(0, 0) > 0.0);
}
