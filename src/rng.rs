//! Seeded, portable random numbers.
//!
//! Every random draw in widenet comes from a ChaCha8 stream whose seed is
//! derived from the user's `--seed` and a purpose label, so a run is
//! reproducible bit-for-bit on any platform and independent purposes (network
//! initialization, label noise, data split) do not share a stream.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The generator type used everywhere.
pub type WRng = ChaCha8Rng;

/// A generator for `purpose`, derived from `seed` (FNV-1a of the label mixed with the seed).
pub fn stream(seed: u64, purpose: &str) -> WRng {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in purpose.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64 finalizer so that nearby seeds give unrelated streams
    let mut z = seed ^ h;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    ChaCha8Rng::seed_from_u64(z)
}

/// A standard normal draw.
pub fn normal(rng: &mut WRng) -> f64 {
    StandardNormal.sample(rng)
}

/// A point uniform on the sphere of radius `radius` in R^d (a normalized standard Gaussian;
/// the probability-zero near-zero draw is redrawn). The one sphere sampler of the crate.
pub fn sphere_point(d: usize, radius: f64, rng: &mut WRng) -> Vec<f64> {
    loop {
        let v: Vec<f64> = (0..d).map(|_| normal(rng)).collect();
        let s = crate::linalg::norm2(&v);
        if s > 1e-12 {
            return v.into_iter().map(|x| x * radius / s).collect();
        }
    }
}

/// A uniform draw from {−1, +1}.
pub fn rademacher(rng: &mut WRng) -> f64 {
    if rng.random::<bool>() {
        1.0
    } else {
        -1.0
    }
}

/// A uniform index permutation of 0..n (Fisher–Yates).
pub fn permutation(rng: &mut WRng, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        p.swap(i, j);
    }
    p
}
