//! The layering of the crate (developer guide: no module imports from a layer above it):
//! data < kernels < models < train < theory < experiments < report, with the low-level
//! modules options, error, linalg, rng, runtime, validate, lock and artifacts usable from anywhere
//! (and themselves importing no layer). Every `crate::…`, `super::…` and `widenet::…` path
//! in the code of src/ (comments skipped) is resolved to its top-level module and checked.
//! A file's `#[cfg(test)] mod … {` block is not checked: a test may use a higher layer as an
//! independent reference. The upward imports that predate this test are listed in
//! [`KNOWN`] with their reason; any other one fails.

use std::path::{Path, PathBuf};

/// The layers, lowest first.
const LAYERS: [&str; 7] = [
    "data",
    "kernels",
    "models",
    "train",
    "theory",
    "experiments",
    "report",
];

/// Usable from every layer; they import only each other (artifacts: only error).
const LOW_LEVEL: [&str; 9] = [
    "options",
    "error",
    "linalg",
    "rng",
    "runtime",
    "validate",
    "lock",
    "artifacts",
    "taylor",
];

/// Upward imports allowed as known exceptions, (file under src/, imported module). Empty: the
/// five that predated this test (data → theory for AnalyticFn and Cor. 6.2's bound, kernels →
/// models for the RNN preset and the empirical RNN NTK) were removed by moving `taylor` to the
/// low level, the bound to `theory::complexity::poly_target_bound`, `Preset` to
/// `kernels::rnn_infinite` and the empirical RNN NTK to `models::rnn_ntk`.
const KNOWN: [(&str, &str); 0] = [];

/// Rank of a top-level module: low-level modules below every layer, then the layers;
/// None for the crate root files above every layer (lib, main, commands, bench).
fn rank(module: &str) -> Option<usize> {
    if LOW_LEVEL.contains(&module) {
        return Some(0);
    }
    LAYERS.iter().position(|&l| l == module).map(|i| i + 1)
}

/// The module path of a file under src/: src/a/b.rs → [a, b], src/a/mod.rs → [a].
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts
}

fn ident_at(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level modules that `line` (code, in the module `module`) refers to.
fn referenced(module: &[String], line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in line
        .match_indices("crate::")
        .chain(line.match_indices("widenet::"))
    {
        // `crate::` inside a longer identifier (e.g. `my_crate::`) is not a crate path
        if i > 0 {
            let prev = line[..i].chars().last().unwrap();
            if prev.is_alphanumeric() || prev == '_' {
                continue;
            }
        }
        let rest = &line[i..];
        let rest = &rest[rest.find("::").unwrap() + 2..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::x, b}`: every name at the group's top level
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        out.push(ident_at(&group[j..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident_at(rest));
        }
    }
    // super::…: walk up from the module; reaching the root names a top-level module
    for (i, _) in line.match_indices("super::") {
        if i > 0 {
            let prev = line[..i].chars().last().unwrap();
            if prev.is_alphanumeric() || prev == '_' || prev == ':' {
                continue; // counted with the first `super::` of the chain
            }
        }
        let mut rest = &line[i..];
        let mut path: Vec<String> = module.to_vec();
        while let Some(r) = rest.strip_prefix("super::") {
            path.pop();
            rest = r;
        }
        if path.is_empty() {
            out.push(ident_at(rest));
        } else {
            out.push(path[0].clone());
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

/// Every upward import of the file `rel` (path under src/) with contents `text`.
fn violations(rel: &Path, text: &str) -> Vec<String> {
    let module = module_path(rel);
    let Some(own) = module.first() else {
        return Vec::new(); // lib.rs / main.rs
    };
    let Some(own_rank) = rank(own) else {
        return Vec::new(); // commands, bench: the crate's top, above every layer
    };
    let mut bad = Vec::new();
    let mut cfg_test = false;
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        if code.starts_with("#[cfg(test)]") {
            cfg_test = true;
            continue;
        }
        if cfg_test && code.starts_with("mod ") && code.ends_with('{') {
            break; // the test module (at the end of the file)
        }
        cfg_test = false;
        for target in referenced(&module, code) {
            let rel_s = rel.to_string_lossy().replace('\\', "/");
            if &target == own || KNOWN.contains(&(rel_s.as_str(), target.as_str())) {
                continue;
            }
            let upward = match rank(&target) {
                // the crate's top (commands, bench) is above everything
                None => !["std", "self"].contains(&target.as_str()),
                Some(r) if own_rank == 0 => {
                    // low-level modules import no layer; artifacts imports only error
                    r > 0 || (own == "artifacts" && target != "error")
                }
                Some(r) => r > own_rank,
            };
            if upward {
                bad.push(format!(
                    "{}:{}: {own} imports {target}: {}",
                    rel.display(),
                    n + 1,
                    code.trim()
                ));
            }
        }
    }
    bad
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let text = std::fs::read_to_string(f).unwrap();
        bad.extend(violations(rel, &text));
        checked += 1;
    }
    // every layer and low-level module was found (the walk did not miss src/)
    for m in LAYERS.iter().chain(&LOW_LEVEL) {
        assert!(
            files
                .iter()
                .any(|f| module_path(f.strip_prefix(&src).unwrap()).first() == Some(&m.to_string())),
            "no file of module {m} under src/"
        );
    }
    assert!(checked > 50, "only {checked} files");
    assert!(bad.is_empty(), "upward imports:\n{}", bad.join("\n"));
}

/// The checker itself catches each kind of upward import, and passes the allowed ones.
#[test]
fn the_checker_flags_upward_imports() {
    let p = Path::new;
    // an experiment importing the report, in each spelling
    for line in [
        "use crate::report::table::claims_table;",
        "use crate::{linalg::Matrix, report::html};",
        "    let t = crate::report::table::claims_table(&rows);",
        "use super::super::report::html;",
    ] {
        let v = violations(p("experiments/resnet_fig2/mod.rs"), line);
        assert_eq!(v.len(), 1, "{line}: {v:?}");
    }
    // super:: from a layer's mod.rs is the crate root
    assert_eq!(
        violations(p("models/mod.rs"), "use super::train::sgd;").len(),
        1
    );
    // models importing train or experiments; data importing kernels
    assert_eq!(
        violations(p("models/krr.rs"), "use crate::train::search::HyperPoint;").len(),
        1
    );
    assert_eq!(
        violations(p("data/npy.rs"), "use crate::kernels::tile::TileKernel;").len(),
        1
    );
    // a low-level module importing a layer; artifacts importing linalg
    assert_eq!(
        violations(p("linalg.rs"), "use crate::models::krr::Krr;").len(),
        1
    );
    assert_eq!(
        violations(p("artifacts/plot.rs"), "use crate::linalg::Matrix;").len(),
        1
    );
    // a layer importing the crate's top
    assert_eq!(
        violations(p("theory/bounds.rs"), "use crate::commands::x;").len(),
        1
    );
    // allowed: downward, same layer, low-level, comments, the root files
    for (file, line) in [
        ("experiments/arora_fig1.rs", "use crate::models::krr::Krr;"),
        ("experiments/arora_fig1.rs", "use super::claim::Claim;"),
        ("experiments/resnet_fig2/fig2a.rs", "use super::*;"),
        ("report/run.rs", "use crate::experiments::suite::registry;"),
        (
            "train/search.rs",
            "use crate::{error::Result, models::krr::KrrPoint};",
        ),
        ("data/npy.rs", "use crate::artifacts::files::atomic_write;"),
        ("artifacts/plot.rs", "use crate::error::Result;"),
        (
            "models/krr.rs",
            "/// see [`crate::experiments::resnet_fig2`]",
        ),
        ("commands.rs", "use crate::report::run::rejudge;"),
        ("lib.rs", "pub mod report;"),
        (
            "models/ntk_exact.rs",
            "#[cfg(test)]\nmod tests {\nuse crate::train::sgd::train;",
        ),
    ] {
        assert!(violations(p(file), line).is_empty(), "{file}: {line}");
    }
}
