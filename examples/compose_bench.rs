//! Composed kernels against their baselines, timed in the same run (issue 23's
//! performance figures): a depth-3 ReLU fc NTK through the compositional engine,
//! the hand-written `FcKernel`, and the inputs' Gram alone (the composition
//! `dense`, which is the GEMM plus a copy, through the same tile driver), all
//! dense f64 at n × d. Prints best-of-`reps` seconds and ratios to the Gram.
//!
//! `cargo run --release --example compose_bench -- [n] [d] [reps]` (defaults
//! 10000 784 3).

use std::time::Instant;
use widenet::kernels::compose::{Arch, ComposedKernel, Output};
use widenet::kernels::fc::{FcKernel, FcTrained};
use widenet::kernels::tile::{dense_f64, TileKernel};
use widenet::linalg::Matrix;

fn best(reps: usize, k: &dyn TileKernel) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            let m = dense_f64(k).expect("kernel");
            std::hint::black_box(m.get(0, 0));
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
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
    let t_gram = best(reps, &gram);
    let t_comp = best(reps, &comp);
    let t_hand = best(reps, &hand);
    println!(
        "n = {n}, d = {d}, {} threads, best of {reps}",
        rayon::current_num_threads()
    );
    println!("Gram (composition 'dense')          {t_gram:8.3} s   1.00x");
    println!(
        "composed depth-3 ReLU NTK           {t_comp:8.3} s   {:.2}x",
        t_comp / t_gram
    );
    println!(
        "hand-written FcKernel depth-3 NTK   {t_hand:8.3} s   {:.2}x",
        t_hand / t_gram
    );
    Ok(())
}
