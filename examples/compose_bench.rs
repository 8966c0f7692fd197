//! Composed kernels against their baselines, timed in the same run (issue 23's
//! performance figures): a depth-3 ReLU fc NTK through the compositional engine,
//! `fc::FcKernel` (what `widenet.fc_ntk` computes: the same composition behind the
//! fc kernels' interface; the hand-written recursion it replaced took 1.7–1.9× the
//! Gram), and the inputs' Gram alone (the composition
//! `dense`, which is the GEMM plus a copy, through the same tile driver), all
//! dense f64 at n × d, and the raw GEMM X·Xᵀ of the same shape (`gemm_into`, the
//! full n × n product, all threads), and the f32 tiles (an f32 GEMM, the maps in
//! f64) of the Gram and of the depth-3 net. Prints best-of-`reps` seconds and the ratios
//! to the Gram and to the raw GEMM, all measured in the same run.
//!
//! `cargo run --release --example compose_bench -- [n] [d] [reps]` (defaults
//! 10000 784 3).

use std::time::Instant;
use widenet::kernels::compose::{Arch, ComposedKernel, Output};
use widenet::kernels::fc::{FcKernel, FcTrained};
use widenet::kernels::tile::{dense_f32, dense_f64, TileKernel};
use widenet::linalg::{gemm_into, Matrix};

/// Best of `reps` seconds of `f`.
fn best_of<R>(reps: usize, f: impl Fn() -> R) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn best(reps: usize, k: &dyn TileKernel) -> f64 {
    best_of(reps, || dense_f64(k).expect("kernel"))
}

fn main() -> widenet::Result<()> {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().expect("a number"))
        .collect();
    let (n, d, reps) = (
        a.first().copied().unwrap_or(10_000),
        a.get(1).copied().unwrap_or(784),
        a.get(2).copied().unwrap_or(3),
    );
    let mut g = widenet::rng::stream(0, "compose-bench");
    let x = Matrix::from_fn(n, d, |_, _| widenet::rng::normal(&mut g));
    let gram = ComposedKernel::new(&Arch::parse("dense")?, &x, Output::Ntk)?;
    let comp = ComposedKernel::new(
        &Arch::parse("dense, relu, dense, relu, dense")?,
        &x,
        Output::Ntk,
    )?;
    let hand = FcKernel::ntk(&x, 3, FcTrained::All)?;
    let mut g = Matrix::zeros(n, n);
    let t_raw = (0..reps)
        .map(|_| {
            let t = Instant::now();
            gemm_into(&mut g, x.view(), x.t(), 1.0 / d as f64, false).expect("shapes agree");
            std::hint::black_box(g.get(0, 0));
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    drop(g);
    let t_gram = best(reps, &gram);
    let t_comp = best(reps, &comp);
    let t_hand = best(reps, &hand);
    let x32 = x.cast::<f32>();
    let comp32 = ComposedKernel::from_f32(
        &Arch::parse("dense, relu, dense, relu, dense")?,
        &x32,
        Output::Ntk,
    )?;
    let gram32 = ComposedKernel::from_f32(&Arch::parse("dense")?, &x32, Output::Ntk)?;
    let best32 = |k: &dyn TileKernel| best_of(reps, || dense_f32(k).expect("kernel"));
    let t_gram32 = best32(&gram32);
    let t_comp32 = best32(&comp32);
    println!(
        "n = {n}, d = {d}, {} threads, best of {reps}",
        rayon::current_num_threads()
    );
    println!("                                    seconds   /Gram   /raw GEMM");
    let row = |name: &str, t: f64| {
        println!(
            "{name:<36}{t:8.3}   {:5.2}x   {:5.2}x",
            t / t_gram,
            t / t_raw
        )
    };
    row("raw GEMM X X^T (full n x n)", t_raw);
    row("Gram (composition 'dense')", t_gram);
    row("composed depth-3 ReLU NTK", t_comp);
    row("fc::FcKernel depth-3 NTK (its composition)", t_hand);
    row("Gram in f32 (f32 tiles of 'dense')", t_gram32);
    row("composed depth-3 ReLU NTK, f32 tiles", t_comp32);
    Ok(())
}
