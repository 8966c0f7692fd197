//! Unit tests of `widenet::experiments::claim` (formerly in src/experiments/claim.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use serde_json::json;
use widenet::experiments::claim::*;

#[test]
fn verdicts_round_trip_through_json_with_their_reason() {
    let c = Claim::new("x", true, json!(1.0))
        .paper("001", "Thm 4.1", "GD follows the kernel dynamics")
        .requires(false, "net did not train");
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["verdict"], "inconclusive");
    assert_eq!(v["reason"], "net did not train");
    assert_eq!(v["paper"]["location"], "Thm 4.1");
    let back: Claim = serde_json::from_value(v).unwrap();
    assert_eq!(back, c);
    let n = Claim::new("y", false, json!(null));
    assert_eq!(serde_json::to_value(&n).unwrap()["verdict"], "not_held");
    assert_eq!(tally([&c, &n]), (0, 1, 1));
    // a precondition that holds leaves the verdict alone
    assert!(Claim::new("z", true, json!(0)).requires(true, "-").held());
}
