use std::time::Instant;
use widenet::linalg::{gemm_into, Matrix};
use widenet::rng;
fn main() {
    let (n, d) = (10_000, 784);
    let mut g = rng::stream(1, "x");
    let x: Matrix<f64> = Matrix::from_fn(n, d, |_, _| rng::normal(&mut g));
    let mut gk = Matrix::<f64>::zeros(n, n);
    for _ in 0..2 {
        let t = Instant::now();
        gemm_into(&mut gk, x.view(), x.t(), 1.0, false).unwrap();
        let a = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let _ = widenet::kernels::h_inf(&x).unwrap();
        let b = t.elapsed().as_secs_f64();
        println!("raw {a:.3} h_inf {b:.3} ratio {:.3}", b / a);
    }
}
