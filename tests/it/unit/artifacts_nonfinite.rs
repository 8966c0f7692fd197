//! Unit tests of `widenet::artifacts::nonfinite` (formerly in src/artifacts/nonfinite.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use widenet::artifacts::nonfinite::*;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
enum Kind {
    Plain,
    Scaled(f64),
    Fit { p: f64, se: Option<f64> },
}

#[derive(Debug, Serialize, Deserialize)]
struct Inner {
    x: f64,
    pair: (usize, f64),
    kind: Kind,
    list: Vec<Kind>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Outer {
    a: f64,
    b: Option<f64>,
    c: Vec<f64>,
    d: Vec<Option<f64>>,
    e: Option<(f64, f64)>,
    f: Vec<Vec<f64>>,
    g: BTreeMap<String, f64>,
    h: f32,
    inner: Inner,
    name: String,
    n: usize,
    free: serde_json::Value,
    #[serde(default)]
    missing: f64,
}

/// Bit-for-bit float equality with NaN equal to NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Every float position of a nested result, each non-finite kind, survives
/// Encoded → JSON text → from_value; finite values are written as plain numbers.
#[test]
fn every_float_position_round_trips() {
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    let o = Outer {
        a: nan,
        b: Some(-inf),
        c: vec![1.5, nan, inf, -inf, -0.0],
        d: vec![None, Some(nan), Some(2.0)],
        e: Some((inf, 0.1)),
        f: vec![vec![nan], vec![]],
        g: [("k".to_string(), -inf)].into_iter().collect(),
        h: f32::NAN,
        inner: Inner {
            x: inf,
            pair: (3, nan),
            kind: Kind::Fit {
                p: nan,
                se: Some(inf),
            },
            list: vec![Kind::Plain, Kind::Scaled(-inf), Kind::Scaled(1.0)],
        },
        name: "inf".into(),
        n: 7,
        free: serde_json::json!({"s": "NaN", "v": [1, 2]}),
        missing: 0.0,
    };
    let text = serde_json::to_string(&Encoded(&o)).unwrap();
    assert!(
        text.contains(r#""a":"NaN""#) && text.contains(r#""b":"-inf""#),
        "{text}"
    );
    assert!(
        text.contains(r#""c":[1.5,"NaN","inf","-inf",-0.0]"#),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let r: Outer = from_value(v).unwrap();
    assert!(same(r.a, nan) && same(r.b.unwrap(), -inf));
    for (x, y) in r.c.iter().zip(&o.c) {
        assert!(same(*x, *y), "{x} vs {y}");
    }
    assert_eq!(r.c.len(), 5);
    assert!(r.d[0].is_none() && r.d[1].unwrap().is_nan() && r.d[2] == Some(2.0));
    let e = r.e.unwrap();
    assert!(same(e.0, inf) && e.1 == 0.1);
    assert!(r.f[0][0].is_nan() && r.f[1].is_empty());
    assert!(same(r.g["k"], -inf));
    assert!(r.h.is_nan());
    assert!(same(r.inner.x, inf) && r.inner.pair.0 == 3 && r.inner.pair.1.is_nan());
    match r.inner.kind {
        Kind::Fit { p, se } => assert!(p.is_nan() && se == Some(inf)),
        k => panic!("{k:?}"),
    }
    assert_eq!(r.inner.list[0], Kind::Plain);
    assert!(matches!(r.inner.list[1], Kind::Scaled(v) if v == -inf));
    assert_eq!(r.inner.list[2], Kind::Scaled(1.0));
    // strings stay strings (only float fields read the names), other values untouched
    assert_eq!(r.name, "inf");
    assert_eq!(r.n, 7);
    assert_eq!(r.free, serde_json::json!({"s": "NaN", "v": [1, 2]}));
}

/// Files written before: serde_json's `null` in a float field reads as NaN (an
/// `Option` field's null stays None); a wrong type is still an error naming the value.
#[test]
fn null_reads_as_nan_and_bad_types_are_errors() {
    #[derive(Deserialize)]
    struct Old {
        x: f64,
        y: Option<f64>,
        z: Vec<f64>,
    }
    let v = serde_json::json!({"x": null, "y": null, "z": [null, 1]});
    let r: Old = from_value(v).unwrap();
    assert!(r.x.is_nan() && r.y.is_none() && r.z[0].is_nan() && r.z[1] == 1.0);
    let bad = serde_json::json!({"x": "many", "y": null, "z": []});
    let e = from_value::<Old>(bad)
        .err()
        .expect("a string is not a float");
    assert!(e.to_string().contains("many"), "{e}");
}
