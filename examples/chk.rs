use widenet::experiments::common::{load_two_class, DataSource};
use widenet::models::TwoLayerNet;
fn main() {
    let d = load_two_class(&DataSource::Synthetic, None, None, (200, 10), 24, 0).unwrap();
    let x = &d.train.x;
    println!("norm0 {}", widenet::linalg::norm2(x.row(0)));
    let net = TwoLayerNet::<f64>::init(20000, 24, 0.1, 0).unwrap();
    let u = net.predict(x).unwrap();
    let s: f64 = u.iter().map(|v| v * v).sum::<f64>() / 200.0;
    println!("mean u0^2 {s}  expected {}", 0.01 / 2.0);
    let m: f64 = u.iter().sum::<f64>() / 200.0;
    println!("mean u0 {m}");
    let net32 = TwoLayerNet::<f32>::init(20000, 24, 0.1, 0).unwrap();
    let u32 = net32.predict(&x.cast::<f32>()).unwrap();
    let s32: f64 = u32.iter().map(|v| v * v).sum::<f64>() / 200.0;
    println!("f32 mean u0^2 {s32}");
    let phi: f64 = u32
        .iter()
        .zip(&d.train.y)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / 2.0;
    println!("phi0 f32 {phi}");
}
#[allow(dead_code)]
fn f32check() {}
