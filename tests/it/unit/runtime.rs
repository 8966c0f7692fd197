//! Unit tests of `widenet::runtime` (formerly in src/runtime.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::runtime::*;

#[test]
fn parses_sizes() {
    assert_eq!(parse_bytes("b", "20G").unwrap(), 20 << 30);
    assert_eq!(parse_bytes("b", "512M").unwrap(), 512 << 20);
    assert_eq!(parse_bytes("b", "1.5GiB").unwrap(), 3 << 29);
    assert_eq!(parse_bytes("b", "4096").unwrap(), 4096);
    assert!(parse_bytes("b", "-1G").is_err());
    assert!(parse_bytes("b", "12Q").is_err());
    assert!(parse_bytes("b", "").is_err());
}

#[test]
fn alloc_check_refuses_overflow_and_over_budget() {
    let e = check_alloc("kernel", u128::MAX, 8).unwrap_err();
    assert!(e.to_string().contains("kernel"), "{e}");
    assert!(check_alloc("tiny", 10, 8).is_ok());
}

#[test]
fn phases_record_each_lap_in_order() {
    use widenet::runtime::profile::Phases;
    let mut p = Phases::start();
    assert!(p.names().is_empty());
    for name in ["storage", "solve", "storage"] {
        p.lap(name);
    }
    assert_eq!(p.names(), ["storage", "solve", "storage"]);
    let record = p.finish();
    let names: Vec<&str> = record.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["storage", "solve", "storage"]);
    assert!(record.iter().all(|(_, s)| s.is_finite() && *s >= 0.0));
}
