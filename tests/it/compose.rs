//! The compositional kernel engine (issue 23) against independent references:
//! neural-tangents' `stax` in float64 (fixtures made by
//! tests/fixtures/compose/gen_nt.py), the seeds' hand-written kernels, Gauss–Hermite
//! quadrature of the closed-form dual maps, and the spec grammar's round trip and
//! errors.

use std::path::PathBuf;
use widenet::error::Error;
use widenet::kernels::compose::maps::{closed_pair, gauss_hermite_normal, quad_pair, Cov};
use widenet::kernels::compose::{composed_cross, composed_gram, Act, Arch, ComposedKernel, Output};
use widenet::kernels::tile::{dense_f64, TileKernel};
use widenet::linalg::Matrix;
use widenet::rng;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compose")
        .join(name)
}

fn normal_matrix(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "test");
    Matrix::from_fn(n, d, |_, _| rng::normal(&mut g))
}

/// Largest |a − b| relative to the pair's scale √(|b_ii b_jj|) (or |b_ij| if larger).
fn max_rel(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    max_rel_at(a, b).0
}

fn max_rel_at(a: &Matrix<f64>, b: &Matrix<f64>) -> (f64, usize, usize) {
    let n = b.rows();
    let mut worst = (0.0f64, 0, 0);
    for i in 0..n {
        for j in 0..b.cols() {
            let scale = if b.cols() == n {
                (b.get(i, i).abs() * b.get(j, j).abs()).sqrt()
            } else {
                0.0
            }
            .max(b.get(i, j).abs())
            .max(1e-300);
            let e = (a.get(i, j) - b.get(i, j)).abs() / scale;
            if e > worst.0 {
                worst = (e, i, j);
            }
        }
    }
    worst
}

#[test]
fn neural_tangents_oracle() {
    let x = widenet::data::npy::read_matrix::<f64>(fixture("x.npy")).unwrap();
    let (shape, data) = widenet::data::npy::read_array::<f64>(fixture("nt_kernels.npy")).unwrap();
    let specs: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(fixture("archs.json")).unwrap()).unwrap();
    let n = x.rows();
    assert_eq!(shape, vec![specs.len(), 2, n, n]);
    assert!(specs.len() >= 25);
    let mut worst = (0.0f64, String::new());
    for (a, spec) in specs.iter().enumerate() {
        let arch = Arch::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(
            Arch::parse(&arch.to_string()).unwrap(),
            arch,
            "round trip of {spec}"
        );
        for (o, out) in [Output::Nngp, Output::Ntk].into_iter().enumerate() {
            let off = (a * 2 + o) * n * n;
            let want = Matrix::from_vec(n, n, data[off..off + n * n].to_vec()).unwrap();
            let gram = composed_gram(&arch, &x, out).unwrap();
            let cross = composed_cross(&arch, &x, &x, out).unwrap();
            for (what, got) in [("gram", &gram), ("cross", &cross)] {
                let (e, i, j) = max_rel_at(got, &want);
                if e > worst.0 {
                    worst = (e, format!("{spec} {} {what}", out.name()));
                }
                assert!(
                    e < 1e-10,
                    "{spec} {} ({what}): relative error {e:.3e} at ({i}, {j}): {} vs {}",
                    out.name(),
                    got.get(i, j),
                    want.get(i, j)
                );
            }
        }
    }
    eprintln!(
        "worst relative error against neural-tangents: {:.3e} ({})",
        worst.0, worst.1
    );
}

#[test]
fn tiles_equal_the_pair_by_pair_maps_bit_for_bit() {
    // a tile maps a row of pairs layer by layer (vectorized); each entry must have
    // the bits of Program::entry, the pair-by-pair evaluation the cross kernels use
    let x = widenet::data::npy::read_matrix::<f64>(fixture("x.npy")).unwrap();
    let mut specs: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(fixture("archs.json")).unwrap()).unwrap();
    specs.push(
        "dense(b=0.1), concat(serial(dense(width=5), relu), serial(dense(width=3), erf), \
         dense(width=2, b=0.3)), dense(param=standard, b=0.2), relu, dense"
            .into(),
    );
    let (n, d) = (x.rows(), x.cols());
    let (rows, cols) = (1..n - 1, 0..n - 2); // crosses the diagonal, odd widths
    for spec in &specs {
        let arch = Arch::parse(spec).unwrap();
        let prog = widenet::kernels::compose::Program::new(&arch, d).unwrap();
        let div = prog.gram_div(d);
        let nrm: Vec<f64> = (0..n)
            .map(|i| x.row(i).iter().map(|v| v * v).sum::<f64>() / div)
            .collect();
        let mut gram = vec![0.0; rows.len() * cols.len()];
        widenet::kernels::tile::inner_tile(
            x.as_slice(),
            d,
            rows.clone(),
            cols.clone(),
            prog.gram_scale(d),
            &mut gram,
        );
        for out in [Output::Nngp, Output::Ntk] {
            let k = ComposedKernel::new(&arch, &x, out).unwrap();
            let mut tile = vec![0.0; gram.len()];
            k.tile_f64(rows.clone(), cols.clone(), &mut tile).unwrap();
            for (p, (&t, &g)) in tile.iter().zip(&gram).enumerate() {
                let (i, j) = (rows.start + p / cols.len(), cols.start + p % cols.len());
                let (nngp, ntk) = if i == j {
                    prog.entry(nrm[i], nrm[i], nrm[i], true)
                } else {
                    prog.entry(g, nrm[i], nrm[j], false)
                };
                let want = if out == Output::Ntk { ntk } else { nngp };
                assert_eq!(
                    t.to_bits(),
                    want.to_bits(),
                    "{spec} {} at ({i}, {j}): {t} vs {want}",
                    out.name()
                );
            }
        }
    }
}

#[test]
fn closed_forms_match_quadrature() {
    // (activation, the same function as an expression, tolerance): smooth ones
    // converge exponentially in the nodes, the kinked ones slowly (to 1%: their Σ'
    // is checked to 1e-10 against neural-tangents, their Σ̇ against ∂Σ'/∂s below)
    let cases: Vec<(Act, &str, f64)> = vec![
        (
            Act::Erf {
                a: 1.3,
                b: 0.7,
                c: 0.2,
            },
            "1.3*erf(0.7z) + 0.2",
            1e-12,
        ),
        (Act::Gelu, "0.5*z*(1 + erf(z/sqrt(2)))", 1e-12),
        (
            Act::Sin {
                a: 1.2,
                b: 0.6,
                c: 0.4,
            },
            "1.2*sin(0.6z + 0.4)",
            1e-12,
        ),
        (
            Act::Cos {
                a: 0.9,
                b: 1.3,
                c: -0.3,
            },
            "0.9*cos(1.3z - 0.3)",
            1e-12,
        ),
        (Act::Exp { a: 0.8, b: 0.5 }, "0.8*exp(0.5z)", 1e-12),
        (
            Act::Gaussian { a: 1.3, b: -0.4 },
            "1.3*exp(-0.4*z^2)",
            1e-12,
        ),
        (Act::Relu, "relu(z)", 1e-2),
        (
            Act::AbRelu { a: -0.3, b: 1.2 },
            "1.2*relu(z) + 0.3*relu(-z)",
            1e-2,
        ),
        (
            Act::LeakyRelu { alpha: 0.1 },
            "relu(z) - 0.1*relu(-z)",
            1e-2,
        ),
        (Act::Abs, "abs(z)", 1e-2),
    ];
    let (z, w) = gauss_hermite_normal(160);
    for (act, src, tol) in cases {
        let e = widenet::kernels::compose::expr::Expr::parse(src).unwrap();
        for &(q1, q2, rho) in &[
            (1.0, 1.0, 0.3),
            (0.4, 2.1, -0.7),
            (1.5, 0.6, 0.95),
            (0.8, 0.8, 1.0),
        ] {
            let c = Cov {
                q1,
                q2,
                s: rho * f64::sqrt(q1 * q2),
                same: rho == 1.0 && q1 == q2,
            };
            let (s1, d1) = closed_pair(&act, c);
            let (s2, d2) = quad_pair(&|t| e.eval(t), c, &z, &w);
            let scale = s2.abs().max(1e-3);
            assert!(
                (s1 - s2).abs() <= tol * scale,
                "{src} nngp at {c:?}: {s1} vs {s2}"
            );
            if tol < 1e-6 {
                assert!(
                    (d1 - d2).abs() <= tol * d2.abs().max(1e-3),
                    "{src} dot at {c:?}: {d1} vs {d2}"
                );
            }
            // Price's theorem: Σ̇ = ∂Σ'/∂s, by central differences of the closed form
            // (the derivative of a kink is a jump, which quadrature resolves slowly)
            if !c.same {
                let h = 1e-5;
                let sp = closed_pair(&act, Cov { s: c.s + h, ..c }).0;
                let sm = closed_pair(&act, Cov { s: c.s - h, ..c }).0;
                let fd = (sp - sm) / (2.0 * h);
                assert!(
                    (fd - d1).abs() <= 1e-8 * d1.abs().max(1.0),
                    "{src}: dSigma/ds {fd} vs {d1}"
                );
            }
        }
    }
}

#[test]
fn expression_activation_reports_its_accuracy() {
    let x = normal_matrix(6, 4, 3);
    // erf written as an expression against the closed form
    let quad = Arch::parse(
        "dense(b=0.3), expr('erf(z)', nodes=40), dense, expr('erf(z)', nodes=24), dense",
    )
    .unwrap();
    let closed = Arch::parse("dense(b=0.3), erf, dense, erf, dense").unwrap();
    for out in [Output::Nngp, Output::Ntk] {
        let k = ComposedKernel::new(&quad, &x, out).unwrap();
        let acc = k.quadrature_accuracy(6).unwrap().expect("has quadrature");
        let err = max_rel(
            &dense_f64(&k).unwrap(),
            &composed_gram(&closed, &x, out).unwrap(),
        );
        // the reported accuracy is honest: the true error is within it (to rounding)
        assert!(
            err <= 1.5 * acc + 1e-14,
            "{}: error {err:e}, reported {acc:e}",
            out.name()
        );
        assert!(acc < 1e-6, "reported accuracy {acc:e}");
    }
    // an activation without closed form: tanh at 48 and 96 nodes agree
    let t = Arch::parse("dense, expr('tanh(z)', nodes=64), dense, expr('z^2 + sin(z)'), dense")
        .unwrap();
    let k = ComposedKernel::new(&t, &x, Output::Ntk).unwrap();
    let acc = k.quadrature_accuracy(6).unwrap().unwrap();
    assert!(acc < 1e-7, "tanh, z^2 + sin(z): reported accuracy {acc:e}");
    // and none for a closed-form net
    let c = ComposedKernel::new(&closed, &x, Output::Ntk).unwrap();
    assert_eq!(c.quadrature_accuracy(6).unwrap(), None);
}

fn expect_invalid(spec: &str, needles: &[&str]) {
    match Arch::parse(spec).and_then(|a| {
        let x = normal_matrix(3, 2, 0);
        composed_gram(&a, &x, Output::Ntk).map(|_| ())
    }) {
        Err(Error::Invalid { name, msg }) => {
            assert_eq!(name, "arch", "{spec}");
            for n in needles {
                assert!(msg.contains(n), "'{spec}': message '{msg}' lacks '{n}'");
            }
        }
        other => panic!("'{spec}' gave {other:?}"),
    }
}

#[test]
fn bad_specs_name_the_layer_and_field() {
    expect_invalid("dense, relux, dense", &["layer 2", "unknown layer 'relux'"]);
    expect_invalid(
        "dense(w=-1), relu",
        &["layer 1", "'dense'", "field 'w'", "negative"],
    );
    expect_invalid(
        "dense, serial(dense, relu, dense(b=-0.1))",
        &["layer 2.3", "field 'b'"],
    );
    expect_invalid("dense(q=1)", &["unknown field 'q'"]);
    expect_invalid("dense(param=wide)", &["field 'param'"]);
    expect_invalid(
        "dense, expr('tanh(z'), dense",
        &["layer 2", "'expr'", "field 'src'", "tanh(z"],
    );
    expect_invalid(
        "dense, expr('sqrt(z)'), dense",
        &["not finite or not differentiable"],
    );
    expect_invalid("dense, expr('foo(z)')", &["unknown name 'foo'"]);
    expect_invalid("dense, expr('tanh(z)', nodes=1)", &["field 'nodes'"]);
    expect_invalid(
        "dense, relu, dense(param=standard)",
        &["layer 3", "needs the input width"],
    );
    expect_invalid(
        "dense, sum(identity, serial(dense, relu))",
        &["'sum'", "branch 2"],
    );
    expect_invalid("", &["empty"]);
    // an activation's dual map needs a Gaussian input (neural-tangents refuses the
    // same nets); the finite network refuses them too (compose_finite.rs)
    expect_invalid(
        "relu, dense",
        &["layer 1 'relu'", "Gaussian input", "raw input"],
    );
    expect_invalid(
        "dense, sum(dense, serial(erf, dense)), relu, relu, dense",
        &["layer 4 'relu'", "an activation's output"],
    );
    expect_invalid(
        "dense, concat(dense, serial(dense, erf)), sin, dense",
        &["layer 3 'sin'", "a concatenation"],
    );
    expect_invalid(
        "dense, prod(dense, dense), gelu, dense",
        &["layer 3 'gelu'", "a product"],
    );
    expect_invalid(
        "rnn(erf, len=2), relu, dense",
        &["layer 2 'relu'", "recurrent layer's states"],
    );
    expect_invalid(
        "sum(identity, dense), relu, dense",
        &["layer 1 'sum'", "branch 1", "raw input"],
    );
    // concatenated widths: all fixed or all the network width
    expect_invalid(
        "dense, concat(dense(width=3), serial(dense, relu)), dense",
        &["layer 2 'concat'", "branch 2", "network width m", "width=N"],
    );
    expect_invalid(
        "concat(identity, serial(dense, relu)), dense",
        &["layer 1 'concat'", "branch 2", "fixed width"],
    );
    // a lone activation still parses (a fragment to put in a larger net)
    assert!(Arch::parse("relu").is_ok());
    expect_invalid("dense(w=1", &["expected ',' or ')'"]);
}

#[test]
fn display_round_trips() {
    for spec in [
        "gram=dot; dense, relu, dense(trainable=false)",
        "dense(w=1.5, b=0.1, param=standard, width=64), leaky_relu(alpha=0.2), dense(param=standard, width=3)",
        "serial(dense, sum(identity, serial(dense, relu, dense, scale(0.5))), prod(dense, dense), concat(sin, cos(c=0.25)))",
        "dense, expr('z^2 + sin(z)', nodes=20), gaussian(a=2.0), exp(b=-0.5), erf(c=1e-7), abrelu(a=0.1, b=3.0)",
    ] {
        let a = Arch::parse(spec).unwrap();
        let b = Arch::parse(&a.to_string()).unwrap();
        assert_eq!(a, b, "{spec} -> {a}");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Arch>(&json).unwrap(), a);
    }
}

// ------------------------------------------------------------ the seeds' kernels

fn bits(m: &Matrix<f64>) -> Vec<u64> {
    m.as_slice().iter().map(|v| v.to_bits()).collect()
}

/// Inputs of mixed norms with a near-parallel pair (angle ~1e-4).
fn seed_inputs() -> Matrix<f64> {
    let mut x = normal_matrix(9, 6, 11);
    for i in 0..9 {
        let s = 0.5 + 0.3 * i as f64;
        x.row_mut(i).iter_mut().for_each(|v| *v *= s);
    }
    let r0 = x.row(0).to_vec();
    for (k, v) in x.row_mut(1).iter_mut().enumerate() {
        *v = 2.0 * r0[k] + 1e-4 * (k as f64 - 2.5);
    }
    x
}

/// The fc kernels (`kernels::fc`, computed by their composition `fc_arch`) against the
/// scalar recursion `fc_entry` (seed 003 §3 / its reference [18]) applied to the first
/// layer's covariance Σ¹ of the same GEMM (the depth-1 kernel, whose diagonal is
/// ‖x‖²/d): bit for bit, Gram and cross, NTK (all and hidden layers trained) and NNGP —
/// the layer maps perform the recursion's operations in the same order.
#[test]
fn fc_kernels_equal_the_scalar_recursion_bit_for_bit() {
    use widenet::kernels::fc::{
        fc_arch, fc_entry, fc_nngp, fc_nngp_gram, fc_ntk, fc_ntk_gram, FcEntry, FcTrained,
    };
    let x = seed_inputs();
    let x2 = normal_matrix(4, 6, 12);
    let first = Arch::parse("dense").unwrap();
    let s1 = composed_gram(&first, &x, Output::Ntk).unwrap();
    let s1x = composed_cross(&first, &x, &x2, Output::Ntk).unwrap();
    let n2 = composed_gram(&first, &x2, Output::Ntk).unwrap();
    let recursion = |depth: usize, trained: FcTrained, pick: fn(FcEntry) -> f64, cross: bool| {
        let (g, nb) = if cross { (&s1x, &n2) } else { (&s1, &s1) };
        Matrix::from_fn(g.rows(), g.cols(), |i, j| {
            let same = !cross && i == j;
            pick(fc_entry(
                g.get(i, j),
                s1.get(i, i),
                nb.get(j, j),
                depth,
                trained,
                same,
            ))
        })
    };
    type Pick = fn(FcEntry) -> f64;
    let (ntk, nngp): (Pick, Pick) = (|e| e.ntk, |e| e.nngp);
    for depth in 1..=5 {
        let all = FcTrained::All;
        assert_eq!(
            bits(&fc_ntk_gram(&x, depth, all).unwrap()),
            bits(&recursion(depth, all, ntk, false))
        );
        assert_eq!(
            bits(&fc_nngp_gram(&x, depth).unwrap()),
            bits(&recursion(depth, all, nngp, false))
        );
        assert_eq!(
            bits(&fc_ntk(&x, &x2, depth, all).unwrap()),
            bits(&recursion(depth, all, ntk, true))
        );
        assert_eq!(
            bits(&fc_nngp(&x, &x2, depth).unwrap()),
            bits(&recursion(depth, all, nngp, true))
        );
        // the composition the fc kernels are computed by is the spec a user writes
        let spec = fc_arch(depth, all).to_string();
        assert_eq!(spec.matches("dense").count(), depth, "{spec}");
        if depth >= 2 {
            // seed 003 App. A, "we only train hidden weights": the last layer frozen
            let hidden = FcTrained::Hidden;
            assert!(fc_arch(depth, hidden)
                .to_string()
                .ends_with("dense(trainable=false)"));
            assert_eq!(
                bits(&fc_ntk_gram(&x, depth, hidden).unwrap()),
                bits(&recursion(depth, hidden, ntk, false))
            );
            assert_eq!(
                bits(&fc_ntk(&x, &x2, depth, hidden).unwrap()),
                bits(&recursion(depth, hidden, ntk, true))
            );
        }
    }
}

#[test]
fn h_inf_arcsine_gaussian_are_compositions() {
    use widenet::kernels::classic::{arcsin_gram, gaussian_gram};
    // seed 001 eq. 3: only the hidden layer trained, inner products not divided by d.
    // The two compute cos θ as g/(‖x‖‖x'‖) and g/√(‖x‖²‖x'‖²): one ulp apart, which
    // arccos turns into ~1e-16/θ; 1e-14 holds away from near-parallel pairs, and the
    // pair at θ ≈ 1e-4 agrees to that conditioning
    let h = Arch::parse("gram=dot; dense, relu, dense(trainable=false)").unwrap();
    let x = seed_inputs();
    let far = Matrix::from_fn(8, 6, |i, j| x.get(i + 1, j));
    let e = max_rel(
        &composed_gram(&h, &far, Output::Ntk).unwrap(),
        &widenet::kernels::h_inf(&far).unwrap(),
    );
    assert!(e < 1e-14, "H^inf: {e:e}");
    let e = max_rel(
        &composed_gram(&h, &x, Output::Ntk).unwrap(),
        &widenet::kernels::h_inf(&x).unwrap(),
    );
    assert!(e < 1e-11, "H^inf with a near-parallel pair: {e:e}");
    // arc-sine: E[sign u sign v] = (2/π) arcsin ρ, scaled by π/2
    let w = (std::f64::consts::PI / 2.0).sqrt();
    let a = Arch::parse(&format!("gram=dot; dense, sign, dense(w={w:?})")).unwrap();
    let e = max_rel(
        &composed_gram(&a, &far, Output::Nngp).unwrap(),
        &arcsin_gram(&far).unwrap(),
    );
    assert!(e < 1e-14, "arc-sine: {e:e}");
    let e = max_rel(
        &composed_gram(&a, &x, Output::Nngp).unwrap(),
        &arcsin_gram(&x).unwrap(),
    );
    assert!(e < 1e-11, "arc-sine with a near-parallel pair: {e:e}");
    // Gaussian exp(−‖x − y‖²/h): random Fourier features, concat(sin, cos) at
    // frequency √(2/h), read out with W_std = √2
    let bw: f64 = 7.0;
    let g = Arch::parse(&format!(
        "gram=dot; dense, concat(sin(b={b:?}), cos(b={b:?})), dense(w={w:?})",
        b = (2.0 / bw).sqrt(),
        w = 2f64.sqrt()
    ))
    .unwrap();
    let e = max_rel(
        &composed_gram(&g, &x, Output::Nngp).unwrap(),
        &gaussian_gram(&x, bw).unwrap(),
    );
    assert!(e < 1e-13, "Gaussian: {e:e}");
}

#[test]
fn cli_kernel_compose_writes_the_kernel_and_its_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let x = seed_inputs();
    let xp = dir.path().join("x.npy");
    widenet::data::npy::write_matrix(&xp, &x).unwrap();
    let out = dir.path().join("k.npy");
    let spec =
        "dense(b=0.1), gelu, dense, sum(identity, serial(dense, relu, dense, scale(0.5))), dense";
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_widenet"))
        .args([
            "kernel", "compose", "--arch", spec, "--output", "nngp", "--x",
        ])
        .arg(&xp)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let k = widenet::data::npy::read_matrix::<f64>(&out).unwrap();
    let arch = Arch::parse(spec).unwrap();
    assert_eq!(
        bits(&k),
        bits(&composed_gram(&arch, &x, Output::Nngp).unwrap())
    );
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("k.npy.arch.json")).unwrap())
            .unwrap();
    assert_eq!(Arch::parse(rec["spec"].as_str().unwrap()).unwrap(), arch);
    assert_eq!(rec["output"], "nngp");
    // a bad spec: an error naming the layer and field, no file
    let bad = dir.path().join("bad.npy");
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_widenet"))
        .args([
            "kernel",
            "compose",
            "--arch",
            "dense, relu, dense(w=-2)",
            "--x",
        ])
        .arg(&xp)
        .arg("--out")
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        !st.status.success() && err.contains("layer 3") && err.contains("field 'w'"),
        "{err}"
    );
    assert!(!bad.exists());
}

#[test]
fn registry_builds_every_matrix_kernel_and_matches_dask_kinds() {
    use widenet::kernels::registry::{build, info, KernelParams, KERNELS};
    let x = seed_inputs();
    let p = KernelParams {
        depth: Some(4),
        bandwidth: Some(3.0),
        arch: Some("dense(b=0.2), erf, dense".into()),
        output: Some("nngp".into()),
        ..Default::default()
    };
    let direct: Vec<(&str, Matrix<f64>)> = vec![
        ("relu_ntk", widenet::kernels::h_inf(&x).unwrap()),
        (
            "fc_ntk",
            widenet::kernels::fc::fc_ntk_gram(&x, 4, widenet::kernels::fc::FcTrained::All).unwrap(),
        ),
        (
            "fc_nngp",
            widenet::kernels::fc::fc_nngp_gram(&x, 4).unwrap(),
        ),
        (
            "gaussian",
            widenet::kernels::classic::gaussian_gram(&x, 3.0).unwrap(),
        ),
        (
            "arcsin",
            widenet::kernels::classic::arcsin_gram(&x).unwrap(),
        ),
        (
            "compose",
            composed_gram(
                &Arch::parse("dense(b=0.2), erf, dense").unwrap(),
                &x,
                Output::Nngp,
            )
            .unwrap(),
        ),
    ];
    for (name, want) in &direct {
        let k = build(name, &x, &p).unwrap();
        assert_eq!(bits(&dense_f64(&*k).unwrap()), bits(want), "{name}");
    }
    assert!(matches!(
        build("rnn_ntk", &x, &p),
        Err(Error::Invalid { .. })
    ));
    match info("nope") {
        Err(Error::Invalid { name, msg }) => {
            assert!(name == "kind" && msg.contains("fc_ntk, fc_nngp"), "{msg}")
        }
        other => panic!("{other:?}"),
    }
    // widenet.dask's KINDS table (name: input rank) is the registry's, less compose
    let dask = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/widenet/dask.py"),
    )
    .unwrap();
    let line = dask
        .lines()
        .skip_while(|l| !l.starts_with("KINDS = {"))
        .take(2)
        .collect::<String>();
    for k in KERNELS.iter().filter(|k| k.name != "compose") {
        assert!(
            line.contains(&format!("\"{}\": {}", k.name, k.input_rank)),
            "{} missing from dask KINDS: {line}",
            k.name
        );
    }
}

#[test]
fn he_scaling_is_two_to_the_depth_minus_one_times_fc() {
    // the convention stated in help(widenet.fc_ntk) and docs/compose.md: W_std = √2
    // after every ReLU multiplies Σ^D and Θ^D by 2^(D−1)
    use widenet::kernels::fc::{fc_nngp_gram, fc_ntk_gram, FcTrained};
    let x = seed_inputs();
    for depth in 2..=4usize {
        let mut layers = vec!["dense".to_string()];
        for _ in 1..depth {
            layers.push("relu".into());
            layers.push(format!("dense(w={:?})", 2f64.sqrt()));
        }
        let he = Arch::parse(&layers.join(", ")).unwrap();
        let f = 2f64.powi(depth as i32 - 1);
        let scaled = |m: Matrix<f64>| Matrix::from_fn(m.rows(), m.cols(), |i, j| f * m.get(i, j));
        let e = max_rel(
            &composed_gram(&he, &x, Output::Ntk).unwrap(),
            &scaled(fc_ntk_gram(&x, depth, FcTrained::All).unwrap()),
        );
        assert!(e < 1e-14, "depth {depth} NTK: {e:e}");
        let e = max_rel(
            &composed_gram(&he, &x, Output::Nngp).unwrap(),
            &scaled(fc_nngp_gram(&x, depth).unwrap()),
        );
        assert!(e < 1e-14, "depth {depth} NNGP: {e:e}");
    }
}

#[test]
fn f32_tiles_map_the_f32_gram_in_f64_at_any_thread_count() {
    // the f32 path (ComposedKernel::from_f32): an f32 GEMM, the maps in f64, one
    // rounding to f32 per entry; against the f64 kernel of the same (exactly
    // widened) inputs, and bit for bit at 1, 2 and 3 threads
    use widenet::kernels::tile::dense_f32;
    let (n, d) = (300, 24); // two tile rows
    let x64 = normal_matrix(n, d, 41);
    let x32 = x64.cast::<f32>();
    let xw = x32.cast::<f64>();
    for spec in [
        "dense, relu, dense, relu, dense",
        "dense(b=0.1), erf, dense(1.3), relu, dense(b=0.2)",
        "gram=dot; dense, relu, dense",
    ] {
        let arch = Arch::parse(spec).unwrap();
        for out in [Output::Ntk, Output::Nngp] {
            let k = ComposedKernel::from_f32(&arch, &x32, out).unwrap();
            let runs: Vec<Matrix<f32>> = [1, 2, 3]
                .iter()
                .map(|&t| crate::support::on_threads(t, || dense_f32(&k).unwrap()))
                .collect();
            for r in &runs[1..] {
                assert!(
                    r.as_slice()
                        .iter()
                        .zip(runs[0].as_slice())
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{spec}: f32 kernel differs across thread counts"
                );
            }
            let want = composed_gram(&arch, &xw, out).unwrap();
            let got = runs[0].cast::<f64>();
            // the f32 inner products are off by ~d·2⁻²⁴ relative; nothing near parallel here
            let err = max_rel(&got, &want);
            assert!(err < 2e-6, "{spec} {}: f32 vs f64 {err:e}", out.name());
            for i in 0..n {
                // the diagonal comes from the f64 norms: the f64 entry rounded once
                assert_eq!(
                    got.get(i, i),
                    want.get(i, i) as f32 as f64,
                    "{spec} ({i}, {i})"
                );
            }
            // the f64 tiles of an f32-built kernel are the f64 kernel of its values
            let k64 = dense_f64(&k).unwrap();
            assert_eq!(k64.as_slice(), want.as_slice(), "{spec}");
        }
    }
}
