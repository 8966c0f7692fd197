//! Issue 23's "a composed kernel through the large-n analysis within 1.2× of the
//! H^∞ path's time", at a size this machine runs: seed 001's large-n analysis
//! (`analyze_kernel`, the path chosen from n and the memory budget as
//! `widenet analyze` / `analyze_large` choose it) of MNIST's first n images
//! (unit norm, both splits) with even/odd labels, once with the hand-written
//! H^∞ kernel (`HInfKernel`) and once with its composition
//! `gram=dot; dense, relu, dense(trainable=false)` (`ComposedKernel`), in the same
//! run; plus each kernel's dense f32 and f64 matrices (the tiles the f32 and
//! matrix-free paths recompute), and the two analyses' largest eigenvalue and
//! complexity measure (which must agree).
//!
//! `cargo run --release --example compose_large -- DIR [n] [top_k] [path] [budget]`
//! (DIR holds MNIST's idx files, or is `sphere`: n points drawn uniformly on the unit
//! sphere of dimension 784, seed 0, labels the sign of the first coordinate, the inputs
//! of the n = 60,000 benchmark; defaults 10000, 100 and the path chosen from n and the
//! memory budget; path: dense, f32 or matrix-free; budget as `--memory-budget` takes
//! it, e.g. 20G, default the machine's). The dense matrices are timed only when the f64 one fits half the budget.

use std::time::Instant;
use widenet::experiments::large_n_mnist::load_all;
use widenet::kernels::compose::{Arch, ComposedKernel, Output};
use widenet::kernels::relu_ntk::HInfKernel;
use widenet::kernels::tile::{dense_f32, dense_f64, TileKernel};
use widenet::theory::large_n::{analyze_kernel, LargeNConfig};

fn secs<R>(f: impl FnOnce() -> R) -> (f64, R) {
    let t = Instant::now();
    let r = f();
    (t.elapsed().as_secs_f64(), r)
}

fn main() -> widenet::Result<()> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::path::PathBuf::from(a.first().expect("the MNIST directory"));
    let n: usize = a.get(1).map_or(10_000, |s| s.parse().expect("n"));
    let top_k: usize = a.get(2).map_or(100, |s| s.parse().expect("top_k"));
    let path = a.get(3).map(|s| s.parse()).transpose()?;
    if let Some(b) = a.get(4) {
        widenet::runtime::set_memory_budget(widenet::runtime::parse_bytes("budget", b)?);
    }
    let (x, y) = if dir.as_os_str() == "sphere" {
        let mut rng = widenet::rng::stream(0, "compose_large sphere");
        let x = widenet::data::synthetic::unit_sphere(n, 784, &mut rng);
        let y: Vec<f64> = (0..n)
            .map(|i| if x.get(i, 0) >= 0.0 { 1.0 } else { -1.0 })
            .collect();
        (x, y)
    } else {
        let (x, digits, _) = load_all(&dir, Some(n))?;
        let y: Vec<f64> = digits
            .iter()
            .map(|&d| if d % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        (x, y)
    };
    let dense_fits =
        (x.rows() as f64).powi(2) * 8.0 <= widenet::runtime::memory_budget() as f64 / 2.0;
    let hinf = HInfKernel::new(&x)?;
    let arch = Arch::parse("gram=dot; dense, relu, dense(trainable=false)")?;
    let comp = ComposedKernel::new(&arch, &x, Output::Ntk)?;
    let kernels: [(&str, &dyn TileKernel); 2] = [("H^inf", &hinf), ("composed", &comp)];
    println!(
        "n = {}, d = {}, top_k = {top_k}, {} threads",
        x.rows(),
        x.cols(),
        rayon::current_num_threads()
    );
    let mut t = [[0.0; 3]; 2];
    for (k, (name, kern)) in kernels.iter().enumerate() {
        let cfg = LargeNConfig {
            top_k,
            path,
            ..Default::default()
        };
        let (ta, r) = secs(|| analyze_kernel(*kern, &[&y], &cfg));
        let r = r?;
        let (mut t32, mut t64) = (f64::NAN, f64::NAN);
        if dense_fits {
            let (t, m) = secs(|| dense_f32(*kern));
            drop(m?);
            t32 = t;
            let (t, m) = secs(|| dense_f64(*kern));
            drop(m?);
            t64 = t;
        }
        t[k] = [ta, t32, t64];
        println!(
            "{name:<9} analysis {ta:7.2} s (path {}, lambda_1 {:.10e}, complexity {:.10e}); \
             dense f32 {t32:6.2} s, dense f64 {t64:6.2} s",
            r.path.name(),
            r.eigenvalues[0],
            r.labels[0].complexity_measure
        );
    }
    println!(
        "composed / H^inf: analysis {:.2}x, dense f32 {:.2}x, dense f64 {:.2}x",
        t[1][0] / t[0][0],
        t[1][1] / t[0][1],
        t[1][2] / t[0][2]
    );
    Ok(())
}
