use std::time::Instant;
use widenet::linalg::Matrix;
use widenet::models::two_layer::{Patterns, TwoLayerNet};
use widenet::rng;
use widenet::train::gd::weight_distances;

fn main() {
    let (m, n, d) = (10_000, 2_000, 784);
    let mut g = rng::stream(1, "x");
    let x: Matrix<f32> = Matrix::from_fn(n, d, |_, _| rng::normal(&mut g) as f32 / 28.0);
    let y: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let mut net = TwoLayerNet::<f32>::init(m, d, 1e-2, 3).unwrap();
    let w0 = net.w.clone();
    let mut p = Matrix::zeros(m, n);
    for _ in 0..3 {
        let t = Instant::now();
        widenet::linalg::gemm_into(&mut p, net.w.view(), x.t(), 1.0, false).unwrap();
        println!("raw gemm {:.4}", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let u = net.forward_into(&x, &mut p).unwrap();
        let t1 = t.elapsed().as_secs_f64();
        let refp = Patterns::from_preactivations(&p);
        let t = Instant::now();
        let _ = refp.count_differences(&p);
        let tc = t.elapsed().as_secs_f64();
        let e: Vec<f64> = u.iter().zip(&y).map(|(a, b)| a - b).collect();
        let t = Instant::now();
        net.gradient_signal_in_place(&mut p, &e, Some(&refp));
        let t2 = t.elapsed().as_secs_f64();
        let t = Instant::now();
        net.apply_update(&p, &x, 1e-4).unwrap();
        let t3 = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let _ = weight_distances(&net.w, &w0);
        let t4 = t.elapsed().as_secs_f64();
        println!("forward {t1:.4} count {tc:.4} signal {t2:.4} update {t3:.4} dist {t4:.4}");
    }
}
