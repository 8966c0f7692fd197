//! Complexity measures and Taylor coefficients against independent references:
//! closed forms, hand computations, brute-force enumeration, numeric evaluation.

use widenet::taylor::AnalyticFn;
use widenet::theory::complexity::{
    arora_cor62_bound, arora_series, complexity_c, complexity_ceps, complexity_cn, complexity_cs,
    complexity_json, concept_additive, concept_n_variable, evaluate, ln_multinomial_max,
    multinomial_max_exact, multinomial_max_positive, Measure, MeasureChoice, MeasureParams, C1,
    C_STAR, REL_TOL,
};

fn m(s: &str) -> MeasureChoice {
    s.parse().unwrap()
}
use widenet::Error;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn c_of_expm1_is_one_plus_r_exp_r() {
    let f = AnalyticFn::ExpM1 { c: 1.0 };
    for &r in &[0.0, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0] {
        let v = complexity_c(&f, r, REL_TOL).unwrap();
        assert!(v.is_finite);
        let want = 1.0 + r * f64::exp(r);
        assert!(close(v.value, want, 1e-11), "R={r}: {} vs {want}", v.value);
    }
}

#[test]
fn c_of_polynomial_by_hand() {
    // psi = 3 - 2z + 0.5 z^3: C = 1 + 1*2*R + 3*0.5*R^3
    let f = AnalyticFn::parse("poly:3,-2,0,0.5").unwrap();
    for &r in &[0.0, 1.0, 2.0, 7.5] {
        let v = complexity_c(&f, r, REL_TOL).unwrap();
        let want = 1.0 + 2.0 * r + 1.5 * r * r * r;
        assert!(close(v.value, want, 1e-14), "R={r}: {} vs {want}", v.value);
    }
    // A polynomial whose later term dominates after tiny middle ones: no early stop.
    let g = AnalyticFn::parse("poly:0,1e-9,1e-12,0,0,0,0,0,1000").unwrap();
    let v = complexity_c(&g, 1.0, REL_TOL).unwrap();
    assert!(close(v.value, 1.0 + 1e-9 + 2e-12 + 8000.0, 1e-14));
}

#[test]
fn sin_cos_exp_coefficients_known_values() {
    let s = AnalyticFn::Sin { c: 1.0 }.coefficients(7);
    let want_s = [
        0.0,
        1.0,
        0.0,
        -1.0 / 6.0,
        0.0,
        1.0 / 120.0,
        0.0,
        -1.0 / 5040.0,
    ];
    for (a, b) in s.iter().zip(want_s) {
        assert!((a - b).abs() <= 1e-16 + 1e-14 * b.abs(), "{a} vs {b}");
    }
    let c = AnalyticFn::CosM1 { c: 1.0 }.coefficients(6);
    let want_c = [0.0, 0.0, -0.5, 0.0, 1.0 / 24.0, 0.0, -1.0 / 720.0];
    for (a, b) in c.iter().zip(want_c) {
        assert!((a - b).abs() <= 1e-16 + 1e-14 * b.abs(), "{a} vs {b}");
    }
    let e = AnalyticFn::ExpM1 { c: 2.0 }.coefficients(4);
    let want_e = [0.0, 2.0, 2.0, 8.0 / 6.0, 16.0 / 24.0];
    for (a, b) in e.iter().zip(want_e) {
        assert!((a - b).abs() <= 1e-14 * b.abs().max(1e-300), "{a} vs {b}");
    }
}

#[test]
fn arctan_and_z_arctan_coefficients() {
    // seed 004 eq. 8: arctan(z/2) = sum (-1)^(i-1) 2^(1-2i)/(2i-1) z^(2i-1)
    let a = AnalyticFn::Arctan { c: 0.5 }.coefficients(9);
    for i in 1..=5usize {
        let p = 2 * i - 1;
        let want = (-1f64).powi(i as i32 - 1) * 2f64.powi(1 - 2 * i as i32) / p as f64;
        assert!(close(a[p], want, 1e-15), "degree {p}");
        assert_eq!(a[p - 1], 0.0);
    }
    // seed 001 Example 6.4: z arctan(z/2) = sum (-1)^(j-1) 2^(1-2j)/(2j-1) z^(2j)
    let z = AnalyticFn::ZArctan { c: 0.5 }.coefficients(10);
    for j in 1..=5usize {
        let want = (-1f64).powi(j as i32 - 1) * 2f64.powi(1 - 2 * j as i32) / (2 * j - 1) as f64;
        assert!(close(z[2 * j], want, 1e-15), "degree {}", 2 * j);
        assert_eq!(z[2 * j - 1], 0.0);
    }
}

#[test]
fn tanh_and_sigmoid_coefficients_known_values() {
    let t = AnalyticFn::Tanh { c: 1.0 }.coefficients(11);
    let want = [
        (1, 1.0),
        (3, -1.0 / 3.0),
        (5, 2.0 / 15.0),
        (7, -17.0 / 315.0),
        (9, 62.0 / 2835.0),
        (11, -1382.0 / 155925.0),
    ];
    for (i, w) in want {
        assert!(close(t[i], w, 1e-14), "tanh degree {i}: {} vs {w}", t[i]);
        assert_eq!(t[i - 1], 0.0);
    }
    // sigmoid(z) = 1/2 + z/4 - z^3/48 + z^5/480 - 17 z^7/80640
    let s = AnalyticFn::Sigmoid { c: 1.0 }.coefficients(7);
    let want_s = [
        0.5,
        0.25,
        0.0,
        -1.0 / 48.0,
        0.0,
        1.0 / 480.0,
        0.0,
        -17.0 / 80640.0,
    ];
    for (i, (a, b)) in s.iter().zip(want_s).enumerate() {
        assert!(
            (a - b).abs() <= 1e-14 * b.abs(),
            "sigmoid degree {i}: {a} vs {b}"
        );
    }
}

#[test]
fn series_sum_matches_function_inside_radius() {
    let cases = [
        ("exp(2z)", 0.7f64),
        ("sin(3z)", 0.4),
        ("cos", 1.3),
        ("arctan(z/2)", 0.8),
        ("z*arctan(z/2)", -0.9),
        ("tanh", 0.5),
        ("tanh(0.5z)", -1.0),
        ("sigmoid", 1.2),
        ("sigmoid(2z)", -0.6),
    ];
    for (name, z) in cases {
        let f = AnalyticFn::parse(name).unwrap();
        assert!(
            z.abs() < 0.5 * f.radius(),
            "{name}: test point must be well inside"
        );
        let cs = f.coefficients(120);
        let mut s = 0.0;
        for c in cs.iter().rev() {
            s = s * z + c;
        }
        let want = f.eval(z);
        let direct = match name {
            "exp(2z)" => (2.0 * z).exp() - 1.0,
            "sin(3z)" => (3.0 * z).sin(),
            "cos" => z.cos() - 1.0,
            "arctan(z/2)" => (z / 2.0).atan(),
            "z*arctan(z/2)" => z * (z / 2.0).atan(),
            "tanh" => z.tanh(),
            "tanh(0.5z)" => (0.5 * z).tanh(),
            "sigmoid" => 1.0 / (1.0 + (-z).exp()),
            "sigmoid(2z)" => 1.0 / (1.0 + (-2.0 * z).exp()),
            _ => unreachable!(),
        };
        assert!((want - direct).abs() < 1e-15, "{name}: eval");
        assert!(
            (s - direct).abs() <= 1e-12 * direct.abs().max(1e-3),
            "{name} at z={z}: series {s} vs {direct}"
        );
    }
}

#[test]
fn radii() {
    let pi = std::f64::consts::PI;
    let r = |s: &str| AnalyticFn::parse(s).unwrap().radius();
    assert_eq!(r("exp"), f64::INFINITY);
    assert_eq!(r("sin(3z)"), f64::INFINITY);
    assert_eq!(r("poly:1,2,3"), f64::INFINITY);
    assert_eq!(r("arctan(z/2)"), 2.0);
    assert_eq!(r("z*arctan(z/2)"), 2.0);
    assert!(close(r("tanh"), pi / 2.0, 1e-15));
    assert!(close(r("tanh(0.5z)"), pi, 1e-15));
    assert!(close(r("sigmoid"), pi, 1e-15));
    assert!(close(r("sigmoid(2z)"), pi / 2.0, 1e-15));
}

#[test]
fn arctan_half_diverges_at_two_and_beyond() {
    let f = AnalyticFn::parse("arctan(z/2)").unwrap();
    for &r in &[2.0, 2.0 + 1e-12, 3.0, 100.0] {
        let v = complexity_c(&f, r, REL_TOL).unwrap();
        assert!(!v.is_finite && v.value == f64::INFINITY, "R={r}");
    }
    for &r in &[0.5, 1.0, 1.9, 1.99] {
        let v = complexity_c(&f, r, REL_TOL).unwrap();
        assert!(v.is_finite, "R={r}");
        // hand-summed closed form: 1 + sum_k 2^(1-2k) R^(2k-1) = 1 + 2R/(4-R^2)
        assert!(
            close(v.value, 1.0 + 2.0 * r / (4.0 - r * r), 1e-10),
            "R={r}"
        );
    }
    // The same for every measure at R >= radius (C_N: radius/sqrt(N); c_eps: radius/C*).
    assert!(
        !arora_series(&AnalyticFn::parse("z*arctan(z/2)").unwrap(), 2.0, REL_TOL)
            .unwrap()
            .is_finite
    );
    assert!(
        !complexity_cs(&f, 2.0, 1.75, C_STAR, false, REL_TOL)
            .unwrap()
            .is_finite
    );
    assert!(
        !complexity_cn(&f, 2.0 / 2f64.sqrt(), 2, 1, C1, REL_TOL)
            .unwrap()
            .is_finite
    );
    assert!(complexity_cn(&f, 1.4, 2, 1, C1, REL_TOL).unwrap().is_finite);
    assert!(
        !complexity_ceps(&f, 2e-4, 0.1, C_STAR, false, REL_TOL)
            .unwrap()
            .is_finite
    );
    assert!(
        complexity_ceps(&f, 1e-4, 0.1, C_STAR, false, REL_TOL)
            .unwrap()
            .is_finite
    );
}

fn multinomial(parts: &[usize]) -> u128 {
    let mut acc: u128 = 1;
    let mut total = 0usize;
    for &p in parts {
        for k in 1..=p {
            acc = acc * (total + k) as u128 / k as u128;
        }
        total += p;
    }
    acc
}

fn compositions(n: usize, i: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if cur.len() == n - 1 {
        let used: usize = cur.iter().sum();
        if i > used {
            let mut c = cur.clone();
            c.push(i - used);
            out.push(c);
        }
        return;
    }
    let used: usize = cur.iter().sum();
    for p in 1..=i.saturating_sub(used) {
        cur.push(p);
        compositions(n, i, cur, out);
        cur.pop();
    }
}

#[test]
fn largest_multinomial_against_brute_force() {
    for n in 1..=4usize {
        for i in 1..=10usize {
            let mut all = Vec::new();
            compositions(n, i, &mut Vec::new(), &mut all);
            if i < n {
                assert!(all.is_empty());
                assert_eq!(multinomial_max_positive(n, i), None);
                // documented extension: i!
                let fact: u128 = (1..=i as u128).product();
                assert_eq!(multinomial_max_exact(n, i), Some(fact));
                continue;
            }
            let brute = all.iter().map(|c| multinomial(c)).max().unwrap();
            assert_eq!(multinomial_max_exact(n, i), Some(brute), "N={n}, i={i}");
            let pos = multinomial_max_positive(n, i).unwrap();
            assert!(close(pos, brute as f64, 1e-13), "N={n}, i={i}");
            assert!(close(ln_multinomial_max(n, i), (brute as f64).ln(), 1e-13));
        }
    }
    // spot values: C_{2,4} = 6, C_{3,6} = 90, C_{2,10} = 252
    assert_eq!(multinomial_max_exact(2, 4), Some(6));
    assert_eq!(multinomial_max_exact(3, 6), Some(90));
    assert_eq!(multinomial_max_exact(2, 10), Some(252));
    // log path beyond u128 agrees with Stirling-free direct sum of logs
    let big = ln_multinomial_max(3, 300);
    let lf = |k: usize| (2..=k).map(|j| (j as f64).ln()).sum::<f64>();
    assert!(close(big, lf(300) - 3.0 * lf(100), 1e-12));
}

#[test]
fn cn_by_hand_for_a_polynomial() {
    // psi = z + 2 z^3, N = 2, L = 3, C1 = 101, R = 0.5:
    // i=1: C_{2,1} := 1! = 1 ; i=3: C_{2,3} = 3
    let f = AnalyticFn::parse("poly:0,1,0,2").unwrap();
    let (l, n, c1, r) = (3.0f64, 2.0f64, C1, 0.5f64);
    let pre = l.powf(n) * c1.powf(n);
    let want = 1.0
        + pre * 1.0 * (1.0f64 / 2.0).powi(2) * r
        + pre * 3f64.sqrt() * (3.0f64 / 2.0).powi(2) * 2.0 * r.powi(3);
    let v = complexity_cn(&f, r, 2, 3, C1, REL_TOL).unwrap();
    assert!(close(v.value, want, 1e-13), "{} vs {want}", v.value);
}

#[test]
fn cor62_bound_hand_example() {
    // g = 2 (b1.x) - 0.5 (b2.x)^2 + 0.25 (b3.x)^4, |b| = 1.5, 2, 1
    let b = arora_cor62_bound(&[(2.0, 1.5, 1), (-0.5, 2.0, 2), (0.25, 1.0, 4)]).unwrap();
    let want = 3.0 * (1.0 * 2.0 * 1.5 + 2.0 * 0.5 * 4.0 + 4.0 * 0.25 * 1.0);
    assert!(close(b, want, 1e-15));
    assert_eq!(want, 24.0);
    for p in [0u32, 3, 5] {
        assert!(matches!(
            arora_cor62_bound(&[(1.0, 1.0, p)]),
            Err(Error::Invalid { .. })
        ));
    }
    // the series form on cos - 1: 3 R sinh R
    let cos = AnalyticFn::parse("cos").unwrap();
    for &r in &[0.3, 1.0, 4.0] {
        let v = arora_series(&cos, r, REL_TOL).unwrap();
        assert!(close(v.value, 3.0 * r * r.sinh(), 1e-11));
    }
    // odd powers >= 3 and constant terms are rejected
    assert!(arora_series(&AnalyticFn::parse("sin").unwrap(), 1.0, REL_TOL).is_err());
    assert!(arora_series(&AnalyticFn::parse("sigmoid").unwrap(), 1.0, REL_TOL).is_err());
}

#[test]
fn cs_and_ceps_closed_forms() {
    // c_s with exponent 1 on exp(z) - 1: C* ((1+R)e^R - 1)
    let e = AnalyticFn::parse("exp").unwrap();
    for &r in &[0.5, 2.0] {
        let v = complexity_cs(&e, r, 1.0, C_STAR, false, REL_TOL).unwrap();
        assert!(close(v.value, C_STAR * ((1.0 + r) * r.exp() - 1.0), 1e-11));
    }
    // c_s of sigmoid counts c_0 = 1/2 unless centered
    let s = AnalyticFn::parse("sigmoid").unwrap();
    let a = complexity_cs(&s, 0.5, 1.0, 10.0, false, REL_TOL).unwrap();
    let b = complexity_cs(&s, 0.5, 1.0, 10.0, true, REL_TOL).unwrap();
    assert!(close(a.value - b.value, 10.0 * 0.5, 1e-10));
    // c_eps of z^2 with C* = 10, eps = e^-4: (10R)^2 (1 + (4/2)^1)
    let z2 = AnalyticFn::parse("poly:0,0,1").unwrap();
    let v = complexity_ceps(&z2, 0.3, (-4.0f64).exp(), 10.0, false, REL_TOL).unwrap();
    assert!(close(v.value, 9.0 * 3.0, 1e-13));
    // c_eps of exp at R = 1 is about e^{10^4}: finite, beyond f64, kept in log space
    let big = complexity_ceps(&e, 1.0, 0.01, C_STAR, false, REL_TOL).unwrap();
    assert!(big.is_finite && big.value.is_infinite());
    assert!(big.ln_value > 1e4 && big.ln_value < 1.0001e4 + 10.0);
}

#[test]
fn concept_complexities() {
    // eq. 10: L^3 sum_l C(psi, C0 sqrt L); L = 4, C0 = 0.5 -> R = 1
    let e = AnalyticFn::parse("exp").unwrap();
    let per = vec![vec![e.clone()]; 4];
    let v = concept_additive(&per, 0.5, REL_TOL).unwrap();
    assert!(close(v.value, 64.0 * 4.0 * (1.0 + 1f64.exp()), 1e-11));
    // eq. 12 is the min of its two forms
    let nv = concept_n_variable(std::slice::from_ref(&e), 2, 4, 1, 0.5, C1).unwrap();
    let second = 64.0 * (1.0 + 2.0 * 2f64.exp());
    assert!(close(nv.distance_form.value, second, 1e-11));
    assert!(
        nv.value.value <= nv.multinomial_form.value.min(nv.distance_form.value) * (1.0 + 1e-15)
    );
    assert!(close(
        nv.value.value,
        nv.multinomial_form.value.min(second),
        1e-11
    ));
}

#[test]
fn parse_accepts_every_spelling_and_rejects_junk() {
    let ok = [
        ("exp", AnalyticFn::ExpM1 { c: 1.0 }),
        ("exp(z)", AnalyticFn::ExpM1 { c: 1.0 }),
        ("exp(z)-1", AnalyticFn::ExpM1 { c: 1.0 }),
        ("exp(2z)", AnalyticFn::ExpM1 { c: 2.0 }),
        ("exp(2*z)", AnalyticFn::ExpM1 { c: 2.0 }),
        ("sin", AnalyticFn::Sin { c: 1.0 }),
        ("sin(3z)", AnalyticFn::Sin { c: 3.0 }),
        ("cos", AnalyticFn::CosM1 { c: 1.0 }),
        ("cos(z) - 1", AnalyticFn::CosM1 { c: 1.0 }),
        ("tanh", AnalyticFn::Tanh { c: 1.0 }),
        ("tanh(0.5z)", AnalyticFn::Tanh { c: 0.5 }),
        ("sigmoid", AnalyticFn::Sigmoid { c: 1.0 }),
        ("arctan(z/2)", AnalyticFn::Arctan { c: 0.5 }),
        ("arctan(0.5z)", AnalyticFn::Arctan { c: 0.5 }),
        ("z*arctan(z/2)", AnalyticFn::ZArctan { c: 0.5 }),
        ("poly:1,2,3", AnalyticFn::Poly(vec![1.0, 2.0, 3.0])),
        ("poly:0, -0.5", AnalyticFn::Poly(vec![0.0, -0.5])),
    ];
    for (s, want) in ok {
        assert_eq!(AnalyticFn::parse(s).unwrap(), want, "{s}");
    }
    // names round-trip
    for s in [
        "exp(2z)-1",
        "arctan(z/2)",
        "z*arctan(z/2)",
        "tanh(z/2)",
        "sin(0.3z)",
        "poly:1,2,3",
    ] {
        let f = AnalyticFn::parse(s).unwrap();
        assert_eq!(f.name(), s);
        assert_eq!(AnalyticFn::parse(&f.name()).unwrap(), f);
    }
    for junk in [
        "foo", "exp(", "sin(3q)", "poly:1,x", "poly:", "tanh(0z)", "log(z)", "",
    ] {
        match AnalyticFn::parse(junk) {
            Err(Error::Invalid { name, msg }) => {
                assert_eq!(name, "function", "{junk}");
                assert!(!msg.is_empty());
            }
            other => panic!("{junk:?} parsed as {other:?}"),
        }
    }
    match AnalyticFn::parse("foo") {
        Err(e) => {
            let m = e.to_string();
            assert!(
                m.contains("function") && m.contains("known functions are"),
                "{m}"
            );
            assert!(m.contains("foo"));
        }
        Ok(_) => unreachable!(),
    }
}

#[test]
fn json_reports_inf_and_numbers() {
    let j = complexity_json("arctan(z/2)", m("C"), 2.0, None, None, None).unwrap();
    assert_eq!(j["value"], "inf");
    assert_eq!(j["finite"], false);
    assert_eq!(j["function"], "arctan(z/2)");
    assert_eq!(j["measure"], "C");
    assert_eq!(j["R"], 2.0);
    let j = complexity_json("exp", m("C"), 1.0, None, None, None).unwrap();
    let v = j["value"].as_f64().unwrap();
    assert!(close(v, 1.0 + 1f64.exp(), 1e-11));
    assert_eq!(j["radius"], "inf");
    // --L with C: eq. 10 over L positions: L^4 C(psi, R)
    let j = complexity_json("exp", m("C"), 1.0, None, Some(2), None).unwrap();
    assert!(close(
        j["value"].as_f64().unwrap(),
        16.0 * (1.0 + 1f64.exp()),
        1e-11
    ));
    // CN needs N and L
    assert!(
        complexity_json("exp", m("CN"), 1.0, Some(2), Some(3), None).unwrap()["value"].is_number()
    );
    let e = complexity_json("exp", m("CN"), 1.0, Some(2), None, None).unwrap_err();
    assert!(e.to_string().contains("--L"));
    let e = complexity_json("exp", m("CN"), 1.0, None, Some(2), None).unwrap_err();
    assert!(e.to_string().contains("--N"));
    // --L does not apply to cs; --eps required by ceps
    let e = complexity_json("exp", m("cs"), 1.0, None, Some(3), None).unwrap_err();
    assert!(e.to_string().contains("--L"), "{e}");
    let e = complexity_json("exp", m("ceps"), 1.0, None, None, None).unwrap_err();
    assert!(e.to_string().contains("--eps"));
    // convergent beyond f64: a string in scientific notation, not "inf"
    let j = complexity_json("exp", m("ceps"), 1.0, None, None, Some(0.01)).unwrap();
    assert_eq!(j["finite"], true);
    let s = j["value"].as_str().unwrap();
    assert!(s.contains("e434"), "{s}");
    // tanh ceps at R = 1 diverges (C* R >= pi/2)
    let j = complexity_json("tanh", m("ceps"), 1.0, None, None, Some(0.1)).unwrap();
    assert_eq!(j["value"], "inf");
    // unknown measure
    assert!("zz".parse::<MeasureChoice>().is_err());
    // bad R
    assert!(complexity_json("exp", m("C"), -1.0, None, None, None).is_err());
}

#[test]
fn evaluate_matches_direct_calls() {
    let f = AnalyticFn::parse("sin(2z)").unwrap();
    let p = MeasureParams::default();
    let a = evaluate(&f, Measure::Cs, 1.5, &p).unwrap();
    let b = complexity_cs(&f, 1.5, 1.75, C_STAR, false, REL_TOL).unwrap();
    assert_eq!(a.value, b.value);
    // cs1 is 𝔠_s with seed 003's exponent 1 of (i + 1)
    let c = m("cs1");
    assert_eq!((c.measure(), c.cs_exponent()), (Measure::Cs, Some(1.0)));
    let b1 = complexity_cs(&f, 1.5, 1.0, C_STAR, false, REL_TOL).unwrap();
    let j = complexity_json("sin(2z)", c, 1.5, None, None, None).unwrap();
    assert_eq!(j["value"].as_f64().unwrap(), b1.value);
    assert_eq!(j["cs_exponent"], 1.0);
}

/// The measure's name: the spellings the docs list (case and underscores ignored, the old
/// parser's aliases) read to the measure and exponent written out here by hand; any other
/// name is an error naming the argument as the caller wrote it and listing the six names.
#[test]
fn measure_names_are_read_loosely_and_errors_list_them() {
    use widenet::options::parse;
    let cases = [
        ("C", Measure::C, None),
        ("c", Measure::C, None),
        ("CN", Measure::CN, None),
        ("C_N", Measure::CN, None),
        ("cn", Measure::CN, None),
        ("ceps", Measure::Ceps, None),
        ("c_eps", Measure::Ceps, None),
        ("CEPS", Measure::Ceps, None),
        ("cepsilon", Measure::Ceps, None),
        ("cs", Measure::Cs, Some(1.75)),
        ("c_s", Measure::Cs, Some(1.75)),
        (" CS ", Measure::Cs, Some(1.75)),
        ("cs1", Measure::Cs, Some(1.0)),
        ("cs-resnet", Measure::Cs, Some(1.0)),
        ("c_s1", Measure::Cs, Some(1.0)),
        ("arora", Measure::Arora, None),
        ("Arora", Measure::Arora, None),
        ("cor6.2", Measure::Arora, None),
    ];
    for (s, want, ex) in cases {
        let c = m(s);
        assert_eq!((c.measure(), c.cs_exponent()), (want, ex), "{s}");
        // Display writes the canonical name, which reads back to the same choice
        assert_eq!(m(&c.to_string()), c);
    }
    for (bad, arg) in [("cs2", "--measure"), ("", "measure"), ("c-n", "--measure")] {
        let e = parse::<MeasureChoice>(arg, bad).unwrap_err();
        assert!(matches!(e, Error::Invalid { .. }));
        assert_eq!(
            e.to_string(),
            format!(
                "invalid {arg}: '{bad}' is not one of C, CN, ceps, cs, cs1 or arora \
                 (case and underscores ignored)"
            )
        );
    }
}

#[test]
fn worked_examples_are_consistent() {
    let t = widenet::experiments::complexity_examples::run().unwrap();
    assert!(t.rows.len() >= 20);
    for r in &t.rows {
        assert!(
            r.consistent,
            "{} {} {} R={}: {} vs {:?} ({})",
            r.paper, r.example, r.function, r.r, r.computed, r.reference, r.check
        );
    }
    let cols = t.to_csv_columns();
    assert!(cols.iter().all(|(_, c)| c.len() == t.rows.len()));
    let csv = t.to_csv();
    assert_eq!(csv.lines().count(), t.rows.len() + 1);
}
