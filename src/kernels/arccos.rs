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
/// branch-free arccos): J₀ = π − θ, J₁ = sin θ + (π − θ)ρ with
/// sin θ = √((1 − ρ)(1 + ρ)): near ρ = ±1 the factor 1 ∓ ρ is exact, where
/// 1 − ρ² would lose ~eps/(1 − |ρ|) of sin θ (2e−10 of a depth-4 fc NTK at a
/// pair 1e−4 apart in angle, against neural-tangents and 40-digit arithmetic).
#[inline(always)]
pub fn relu_j(rho: f64, theta: f64) -> (f64, f64) {
    let j0 = PI - theta;
    let j1 = ((1.0 - rho) * (1.0 + rho)).max(0.0).sqrt() + j0 * rho;
    (j0, j1)
}

/// The ReLU dual maps of a pair off the diagonal (Cho & Saul 2009; seed 003 §3):
/// for centred Gaussians of variances q₁, q₂ and covariance s,
/// (E[relu(u)relu(v)], E[relu'(u)relu'(v)]) = (√(q₁q₂)·J₁(θ)/(2π), J₀(θ)/(2π)),
/// cos θ = s/√(q₁q₂) clamped; (0, ½) when a variance is 0. Branch-free (arccos by
/// [`acos_select`], the zero variance selected afterwards) so that a loop over it
/// vectorizes; the fc kernels ([`crate::kernels::fc`]) and the compositional
/// engine's `relu` both evaluate it, so they agree bit for bit.
#[inline(always)]
pub fn relu_pair(q1: f64, q2: f64, s: f64) -> (f64, f64) {
    let nab = (q1 * q2).sqrt();
    let r = (s / nab).clamp(-1.0, 1.0);
    let (j0, j1) = relu_j(r, acos_select(r));
    // nab = 0: r is NaN (0/0) or ±1, and selected away
    let sig = nab * j1 / (2.0 * PI);
    let dot = j0 / (2.0 * PI);
    if nab == 0.0 {
        (0.0, 0.5)
    } else {
        (sig, dot)
    }
}

/// [`relu_j`] of a correlation clamped to [−1, 1], with libm's arccos.
#[inline(always)]
pub fn relu_j_of(rho: f64) -> (f64, f64) {
    let r = rho.clamp(-1.0, 1.0);
    relu_j(r, r.acos())
}

/// fdlibm's `e_acos.c` coefficients, digit for digit (shared by [`acos_select`] and
/// its four-lane twin).
mod fdlibm {
    #![allow(clippy::excessive_precision)]
    pub(super) const PIO2_HI: f64 = std::f64::consts::FRAC_PI_2; // fdlibm's pio2_hi (0x3FF921FB54442D18)
    pub(super) const PIO2_LO: f64 = 6.123_233_995_736_766_035_87e-17;
    pub(super) const PS0: f64 = 1.666_666_666_666_666_574_15e-01;
    pub(super) const PS1: f64 = -3.255_658_186_224_009_154_05e-01;
    pub(super) const PS2: f64 = 2.012_125_321_348_629_258_81e-01;
    pub(super) const PS3: f64 = -4.005_553_450_067_941_140_27e-02;
    pub(super) const PS4: f64 = 7.915_349_942_898_145_321_76e-04;
    pub(super) const PS5: f64 = 3.479_331_075_960_211_675_70e-05;
    pub(super) const QS1: f64 = -2.403_394_911_734_414_218_78e+00;
    pub(super) const QS2: f64 = 2.020_945_760_233_505_694_71e+00;
    pub(super) const QS3: f64 = -6.882_839_716_054_532_930_30e-01;
    pub(super) const QS4: f64 = 7.703_815_055_590_193_527_91e-02;
}
use fdlibm::*;

/// arccos on [−1, 1] written without branches, so that a loop over it vectorizes: the
/// algorithm of fdlibm's `e_acos.c` (the one libm ports such as musl use) with its three
/// cases (|x| < ½, x ≤ −½, x ≥ ½) all evaluated and the right one selected; within 1 ulp of
/// the correctly rounded value. Exact at ±1 (0 and π) and NaN for NaN.
#[inline(always)]
pub fn acos_select(x: f64) -> f64 {
    let a = x.abs();
    let small = a < 0.5;
    let z = if small { x * x } else { (1.0 - a) * 0.5 };
    let p = z * (PS0 + z * (PS1 + z * (PS2 + z * (PS3 + z * (PS4 + z * PS5)))));
    let q = 1.0 + z * (QS1 + z * (QS2 + z * (QS3 + z * QS4)));
    let r = p / q;
    // |x| < ½: π/2 − (x + x R(x²))
    let v_small = PIO2_HI - (x - (PIO2_LO - x * r));
    // x ≤ −½: π − 2 asin(√z), z = (1 + x)/2
    let sq = z.sqrt();
    let v_neg = 2.0 * (PIO2_HI - (sq + (r * sq - PIO2_LO)));
    // x ≥ ½: 2 asin(√z), z = (1 − x)/2, with √z split into a high part df and a correction
    let df = f64::from_bits(sq.to_bits() & 0xffff_ffff_0000_0000);
    let c = (z - df * df) / (sq + df);
    let v_pos = 2.0 * (df + (r * sq + c));
    let v = if small {
        v_small
    } else if x < 0.0 {
        v_neg
    } else {
        v_pos
    };
    // x = 1: z = 0 makes c = 0/0
    if x == 1.0 {
        0.0
    } else {
        v
    }
}

/// One ReLU layer on lanes, in place (the compositional engine's tile rows): for
/// each pair k, (s, dot) = [`relu_pair`](q₁, q₂, s), then q₁ ← q₁/2, q₂ ← q₂/2,
/// s ← the new covariance and t ← t·dot (the NTK's factor). On a CPU with AVX2
/// four lanes at a time by [`acos_select`]'s and [`relu_pair`]'s operations one by
/// one (no fused or reordered operation), so every lane has exactly the bits of
/// the scalar [`relu_pair`]; elsewhere the scalar loop.
pub fn relu_lanes(q1: &mut [f64], q2: &mut [f64], s: &mut [f64], t: &mut [f64]) {
    let w = q1.len();
    assert!(
        q2.len() == w && s.len() == w && t.len() == w,
        "relu_lanes: lanes of one length"
    );
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above); the four slices hold w values.
        unsafe { x4::relu_lanes(q1, q2, s, t) };
        done = w - w % 4;
    }
    for k in done..w {
        let (s2, dot) = relu_pair(q1[k], q2[k], s[k]);
        q1[k] *= 0.5;
        q2[k] *= 0.5;
        s[k] = s2;
        t[k] *= dot;
    }
}

#[cfg(target_arch = "x86_64")]
mod x4 {
    //! [`super::relu_pair`] on four f64 lanes (AVX2): the same IEEE operations in
    //! the same order, selections by compare and blend.
    use super::fdlibm::*;
    use std::arch::x86_64::*;
    use std::arch::x86_64::{
        _mm256_add_pd as add, _mm256_div_pd as div, _mm256_mul_pd as mul, _mm256_sub_pd as sub,
    };
    use std::f64::consts::PI;

    macro_rules! c {
        ($v:expr) => {
            _mm256_set1_pd($v)
        };
    }

    /// [`super::acos_select`], four lanes.
    #[target_feature(enable = "avx2")]
    unsafe fn acos(x: __m256d) -> __m256d {
        let a = _mm256_andnot_pd(c!(-0.0), x);
        let small = _mm256_cmp_pd::<_CMP_LT_OQ>(a, c!(0.5));
        let z = _mm256_blendv_pd(mul(sub(c!(1.0), a), c!(0.5)), mul(x, x), small);
        let p = mul(z, add(c!(PS4), mul(z, c!(PS5))));
        let p = mul(z, add(c!(PS3), p));
        let p = mul(z, add(c!(PS2), p));
        let p = mul(z, add(c!(PS1), p));
        let p = mul(z, add(c!(PS0), p));
        let q = mul(z, add(c!(QS3), mul(z, c!(QS4))));
        let q = mul(z, add(c!(QS2), q));
        let q = mul(z, add(c!(QS1), q));
        let q = add(c!(1.0), q);
        let r = div(p, q);
        let v_small = sub(c!(PIO2_HI), sub(x, sub(c!(PIO2_LO), mul(x, r))));
        let sq = _mm256_sqrt_pd(z);
        let v_neg = mul(
            c!(2.0),
            sub(c!(PIO2_HI), add(sq, sub(mul(r, sq), c!(PIO2_LO)))),
        );
        let df = _mm256_and_pd(sq, _mm256_castsi256_pd(_mm256_set1_epi64x(-0x1_0000_0000)));
        let cc = div(sub(z, mul(df, df)), add(sq, df));
        let v_pos = mul(c!(2.0), add(df, add(mul(r, sq), cc)));
        let neg = _mm256_cmp_pd::<_CMP_LT_OQ>(x, c!(0.0));
        let v = _mm256_blendv_pd(_mm256_blendv_pd(v_pos, v_neg, neg), v_small, small);
        let one = _mm256_cmp_pd::<_CMP_EQ_OQ>(x, c!(1.0));
        _mm256_blendv_pd(v, c!(0.0), one)
    }

    /// [`super::relu_lanes`] on the first w − w mod 4 lanes.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn relu_lanes(q1: &mut [f64], q2: &mut [f64], s: &mut [f64], t: &mut [f64]) {
        let n = q1.len() - q1.len() % 4;
        for k in (0..n).step_by(4) {
            let a = _mm256_loadu_pd(q1.as_ptr().add(k));
            let b = _mm256_loadu_pd(q2.as_ptr().add(k));
            let sv = _mm256_loadu_pd(s.as_ptr().add(k));
            let tv = _mm256_loadu_pd(t.as_ptr().add(k));
            let nab = _mm256_sqrt_pd(mul(a, b));
            // clamp(s/nab, −1, 1) as f64::clamp: NaN stays NaN
            let r = div(sv, nab);
            let r = _mm256_blendv_pd(r, c!(-1.0), _mm256_cmp_pd::<_CMP_LT_OQ>(r, c!(-1.0)));
            let r = _mm256_blendv_pd(r, c!(1.0), _mm256_cmp_pd::<_CMP_GT_OQ>(r, c!(1.0)));
            // relu_j: (1 − r)(1 + r) ≥ +0 or NaN, and max(·, 0) maps NaN to 0 as f64::max
            let j0 = sub(c!(PI), acos(r));
            let j1 = add(
                _mm256_sqrt_pd(_mm256_max_pd(
                    mul(sub(c!(1.0), r), add(c!(1.0), r)),
                    c!(0.0),
                )),
                mul(j0, r),
            );
            let sig = div(mul(nab, j1), c!(2.0 * PI));
            let dot = div(j0, c!(2.0 * PI));
            let zero = _mm256_cmp_pd::<_CMP_EQ_OQ>(nab, c!(0.0));
            let sig = _mm256_blendv_pd(sig, c!(0.0), zero);
            let dot = _mm256_blendv_pd(dot, c!(0.5), zero);
            _mm256_storeu_pd(q1.as_mut_ptr().add(k), mul(a, c!(0.5)));
            _mm256_storeu_pd(q2.as_mut_ptr().add(k), mul(b, c!(0.5)));
            _mm256_storeu_pd(s.as_mut_ptr().add(k), sig);
            _mm256_storeu_pd(t.as_mut_ptr().add(k), mul(tv, dot));
        }
    }
}
