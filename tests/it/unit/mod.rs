//! The library's unit tests, one module per library file (`src/a/b.rs` → `a_b.rs`).
//!
//! They live here, not in `#[cfg(test)]` modules of the library, because Cargo.toml builds
//! the library without a unit-test harness (`[lib] test = false`): `cargo test --release`
//! would otherwise compile the whole library a second time, optimized, only to run these
//! tests (issue 24 item 5, the CI wall time). `no_unit_test_modules_in_the_library` below
//! keeps it that way: a `#[test]` left in `src/` would never run.

mod artifacts_nonfinite;
mod bench;
mod data_elman_concepts;
mod data_resnet_targets;
mod experiments_arora_bounds;
mod experiments_claim;
mod experiments_quotes;
mod experiments_resnet_fig2_fig2c;
mod experiments_resnet_fig3;
mod experiments_resnet_fig3b;
mod experiments_resnet_hierarchy;
mod experiments_rnn_complexity_nvar;
mod experiments_rnn_complexity_sgd_curves;
mod experiments_rnn_elman;
mod experiments_rnn_wang_checks;
mod kernels_arccos;
mod kernels_relu_ntk;
mod kernels_rnn_infinite;
mod kernels_tile;
mod kernels_tile_cache;
mod linalg;
mod lock;
mod models_a1net;
mod models_krr;
mod models_ntk_exact;
mod models_resnet;
mod runtime;
mod theory_bounds_001;
mod theory_bounds_004;
mod theory_fg_split;
mod theory_hierarchical;
mod theory_rate_fit;
mod train_search;
mod validate;

/// A `#[test]` or `#[cfg(test)]` in the library would be silently skipped (the library has
/// no test harness), so the build must put every unit test here.
#[test]
fn no_unit_test_modules_in_the_library() {
    fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, found);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, line) in text.lines().enumerate() {
                    let l = line.trim_start();
                    if l.starts_with("#[test]") || l.starts_with("#[cfg(test)]") {
                        found.push(format!("{}:{}", p.display(), i + 1));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(
        found.is_empty(),
        "unit tests in the library would never run ([lib] test = false); move them to \
         tests/it/unit/: {found:?}"
    );
}
