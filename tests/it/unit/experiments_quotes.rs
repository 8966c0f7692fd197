//! Unit tests of `widenet::experiments::quotes` (formerly in src/experiments/quotes.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::experiments::quotes::*;

#[test]
fn latex_unicode_and_whitespace_normalize_alike() {
    let seed =
        r"the eigenvalues of  $\mathbf{H}^\infty$  admit a *fast* decay, \varepsilon^{-1} \leq 1";
    assert!(occurs_in(
        "eigenvalues of H^∞ admit a fast\n decay, ε⁻¹ ≤ 1",
        seed
    ));
    assert!(occurs_in(
        "eigenvalues of H^∞ admit a fast decay, ε^{-1} <= 1",
        seed
    ));
    // a changed word is not a match
    assert!(!occurs_in("eigenvalues of H^∞ admit a slow decay", seed));
    assert!(!occurs_in("", seed));
    // every name is unique and every quote has words
    for (i, (n, q)) in ALL.iter().enumerate() {
        assert!(!normalize(q.text()).is_empty(), "{n}");
        assert!(ALL[..i].iter().all(|(m, _)| m != n), "{n}");
    }
}
