//! The tile interface (src/kernels/tile.rs) and its drivers against independent
//! references: the old dense code of each kernel (kept here verbatim where it was
//! a separate code path), per-entry evaluations, the npy reader, dense K·V, and
//! rayon pools of different sizes.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use std::f64::consts::{FRAC_PI_2, PI};
use widenet::data::npy;
use widenet::kernels::classic::{arcsin, gaussian, ClassicKernel};
use widenet::kernels::fc::{fc_entry, fc_nngp, fc_ntk, FcKernel, FcTrained};
use widenet::kernels::relu_ntk::{h_inf_entry, HInfKernel};
use widenet::kernels::rnn_infinite::{
    backward_correlations, forward_correlations, rnn_ntk_infinite, RnnInfKernel,
};
use widenet::kernels::stored::StoredKernel;
use widenet::kernels::tile::{
    dense_f32, dense_f64, matvec, write_npy, write_npy_mode, NpyDtype, TileKernel, WriteMode,
};
use widenet::kernels::{h_inf, h_inf_cross};
use widenet::linalg::{gemm_into_par, matmul, Matrix, View};
use widenet::models::rnn::Preset;
use widenet::rng;

fn normal(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "test/tiles");
    Matrix::from_fn(n, d, |_, _| rng::normal(&mut g))
}

fn bits_equal<T: widenet::linalg::Real>(a: &Matrix<T>, b: &Matrix<T>, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    for i in 0..a.rows() {
        for j in 0..a.cols() {
            let (x, y) = (a.get(i, j).as_f64(), b.get(i, j).as_f64());
            assert!(
                x.to_bits() == y.to_bits(),
                "{what}: ({i}, {j}) {x:e} vs {y:e}"
            );
        }
    }
}

/// The H^∞ dense code as it was before the tile interface (lower block
/// triangle of 256-row tiles, one GEMM each, eq. 3 applied, then mirrored).
fn old_h_inf<T: widenet::linalg::Real>(x: &Matrix<T>) -> Matrix<T> {
    const BLOCK: usize = 256;
    let (n, d) = x.shape();
    let norms: Vec<f64> = (0..n).map(|i| widenet::linalg::norm2(x.row(i))).collect();
    let mut h = Matrix::<T>::zeros(n, n);
    for bi in 0..n.div_ceil(BLOCK) {
        let (i0, i1) = (bi * BLOCK, ((bi + 1) * BLOCK).min(n));
        let xi = View::row_major(&x.as_slice()[i0 * d..i1 * d], i1 - i0, d).unwrap();
        for bj in 0..=bi {
            let (j0, j1) = (bj * BLOCK, ((bj + 1) * BLOCK).min(n));
            let xj = View::row_major(&x.as_slice()[j0 * d..j1 * d], j1 - j0, d).unwrap();
            let mut tile = Matrix::<T>::zeros(i1 - i0, j1 - j0);
            gemm_into_par(&mut tile, xi, xj.t(), T::one(), false, false).unwrap();
            for ii in 0..i1 - i0 {
                let ni = norms[i0 + ii];
                for jj in 0..j1 - j0 {
                    let v = if i0 + ii == j0 + jj {
                        T::of(0.5 * ni * ni)
                    } else {
                        let g = tile.get(ii, jj).as_f64();
                        let nj = norms[j0 + jj];
                        // eq. 3 written out, as the old code had it
                        let c = (g / (ni * nj)).clamp(-1.0, 1.0);
                        T::of(if ni * nj == 0.0 {
                            0.0
                        } else {
                            g * (PI - c.acos()) / (2.0 * PI)
                        })
                    };
                    h.set(i0 + ii, j0 + jj, v);
                }
            }
        }
    }
    for i in 0..n {
        for j in i + 1..n {
            let v = h.get(j, i);
            h.set(i, j, v);
        }
    }
    h
}

/// The old symmetric Gram of a cross kernel: its lower triangle, mirrored, with
/// the exact diagonal `diag(i)` (what gaussian_gram, arcsin_gram and the fc grams
/// did before the tile interface: the same full GEMM and per-entry map as the
/// cross kernel).
fn old_gram(cross: &Matrix<f64>, diag: impl Fn(usize) -> f64) -> Matrix<f64> {
    let n = cross.rows();
    Matrix::from_fn(n, n, |i, j| {
        if i == j {
            diag(i)
        } else {
            cross.get(i.max(j), i.min(j))
        }
    })
}

/// A kernel's tiles against its dense matrix: the aligned tiles of the lower
/// block triangle (what the drivers compute) bit for bit; tiles at arbitrary
/// positions (upper, straddling the diagonal, unaligned, the whole matrix at
/// once) to 1e-14 of the largest entry, since a GEMM of another shape may round
/// an inner product differently; the diagonal always exactly.
fn tiles_match_dense<K: TileKernel>(k: &K, dense: &Matrix<f64>, what: &str) {
    use widenet::kernels::tile::{block, n_blocks};
    let n = k.n();
    let scale = dense.as_slice().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut ranges = vec![
        (0..n, 0..n, false),
        (3..n.min(300), 1..n.min(40), false),
        (0..7, n / 2..n, false),
        (n / 3..n / 3 + 5, n / 3 - 2..n / 3 + 9, false),
        (n - 1..n, 0..n, false),
    ];
    for bi in 0..n_blocks(n) {
        for bj in 0..n_blocks(n) {
            ranges.push((block(bi, n), block(bj, n), bj <= bi));
        }
    }
    for (r, c, exact) in ranges {
        let mut out = vec![0.0; r.len() * c.len()];
        k.tile_f64(r.clone(), c.clone(), &mut out).unwrap();
        for (ii, i) in r.clone().enumerate() {
            for (jj, j) in c.clone().enumerate() {
                let (got, want) = (out[ii * c.len() + jj], dense.get(i, j));
                let ok = if exact || i == j {
                    got.to_bits() == want.to_bits()
                } else {
                    (got - want).abs() <= 1e-14 * scale
                };
                assert!(
                    ok,
                    "{what}: tile entry ({i}, {j}) {got:e} vs dense {want:e}"
                );
            }
        }
    }
    let d = k.diag().unwrap();
    for i in 0..n {
        assert_eq!(
            d[i].to_bits(),
            dense.get(i, i).to_bits(),
            "{what}: diag {i}"
        );
    }
}

#[test]
fn h_inf_through_tiles_is_bit_identical_to_the_old_dense_code() {
    // n spans three tile rows, the last one partial; rows of varied norms and a zero row
    let (n, d) = (600, 17);
    let mut x = normal(n, d, 1);
    for i in 0..n {
        let s = 0.3 + (i % 7) as f64 * 0.4;
        x.row_mut(i).iter_mut().for_each(|v| *v *= s);
    }
    x.row_mut(10).iter_mut().for_each(|v| *v = 0.0);
    let h = h_inf(&x).unwrap();
    bits_equal(&h, &old_h_inf(&x), "H^inf f64");
    let x32 = x.cast::<f32>();
    let h32 = h_inf(&x32).unwrap();
    bits_equal(&h32, &old_h_inf(&x32), "H^inf f32");
    // the f32 tiles of the kernel built from f32 inputs are the same fast path
    let k32 = HInfKernel::from_f32(&x32).unwrap();
    bits_equal(&dense_f32(&k32).unwrap(), &h32, "dense_f32");
    let k = HInfKernel::new(&x).unwrap();
    tiles_match_dense(&k, &h, "H^inf");
    // cross kernel: the same per-pair map
    let hc = h_inf_cross(&x, &x).unwrap();
    let norms: Vec<f64> = (0..n).map(|i| widenet::linalg::norm2(x.row(i))).collect();
    let g = matmul(x.view(), x.t()).unwrap();
    for i in (0..n).step_by(13) {
        for j in 0..n {
            assert_eq!(
                hc.get(i, j).to_bits(),
                h_inf_entry(g.get(i, j), norms[i], norms[j]).to_bits()
            );
        }
    }
}

#[test]
fn fc_kernels_through_tiles_match_the_old_dense_code() {
    let (n, d) = (530, 9);
    let mut x = normal(n, d, 2);
    x.row_mut(4).iter_mut().for_each(|v| *v = 0.0);
    let nrm: Vec<f64> = (0..n)
        .map(|i| x.row(i).iter().map(|v| v * v).sum::<f64>() / d as f64)
        .collect();
    for depth in [1, 2, 4] {
        for trained in [FcTrained::All, FcTrained::Hidden] {
            if depth == 1 && trained == FcTrained::Hidden {
                continue;
            }
            let k = FcKernel::ntk(&x, depth, trained).unwrap();
            let h = dense_f64(&k).unwrap();
            let cross = fc_ntk(&x, &x, depth, trained).unwrap();
            let old = old_gram(&cross, |i| {
                fc_entry(nrm[i], nrm[i], nrm[i], depth, trained, true).ntk
            });
            // the full-matrix GEMM and the tile GEMM may round the inner products
            // differently; the per-entry map is the same
            assert_close(
                &h,
                &old,
                1e-14,
                &format!("fc-ntk depth {depth} {trained:?}"),
            );
            tiles_match_dense(&k, &h, "fc-ntk");
            assert_eq!(
                widenet::kernels::fc::fc_ntk_gram(&x, depth, trained).unwrap(),
                h
            );
        }
        let k = FcKernel::nngp(&x, depth).unwrap();
        let h = dense_f64(&k).unwrap();
        let cross = fc_nngp(&x, &x, depth).unwrap();
        let old = old_gram(&cross, |i| {
            fc_entry(nrm[i], nrm[i], nrm[i], depth, FcTrained::All, true).nngp
        });
        assert_close(&h, &old, 1e-14, &format!("fc-nngp depth {depth}"));
        tiles_match_dense(&k, &h, "fc-nngp");
    }
}

/// max |a − b| ≤ tol · max |b|.
fn assert_close(a: &Matrix<f64>, b: &Matrix<f64>, tol: f64, what: &str) {
    let scale = b.as_slice().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for i in 0..a.rows() {
        for j in 0..a.cols() {
            let (x, y) = (a.get(i, j), b.get(i, j));
            assert!(
                (x - y).abs() <= tol * scale,
                "{what}: ({i}, {j}) {x:e} vs {y:e}"
            );
        }
    }
}

#[test]
fn classic_kernels_through_tiles_match_the_old_dense_code() {
    let (n, d) = (520, 6);
    let x = normal(n, d, 3);
    for h in [0.5, 30.0] {
        let k = ClassicKernel::gaussian(&x, h).unwrap();
        let g = dense_f64(&k).unwrap();
        let old = old_gram(&gaussian(&x, &x, h).unwrap(), |_| 1.0);
        assert_close(&g, &old, 1e-14, "gaussian");
        tiles_match_dense(&k, &g, "gaussian");
        assert_eq!(widenet::kernels::classic::gaussian_gram(&x, h).unwrap(), g);
    }
    let k = ClassicKernel::arcsin(&x).unwrap();
    let g = dense_f64(&k).unwrap();
    let old = old_gram(&arcsin(&x, &x).unwrap(), |_| FRAC_PI_2);
    assert_close(&g, &old, 1e-14, "arcsin");
    tiles_match_dense(&k, &g, "arcsin");
    // bad inputs keep their errors
    assert!(ClassicKernel::gaussian(&x, 0.0).is_err());
    let mut z = x.clone();
    z.row_mut(3).iter_mut().for_each(|v| *v = 0.0);
    let e = ClassicKernel::arcsin(&z).err().unwrap().to_string();
    assert!(e.contains("row 3"), "{e}");
}

#[test]
fn recurrent_kernel_through_tiles_matches_the_per_pair_recursion() {
    let (n, len, d) = (300, 3, 4);
    let mut g = rng::stream(4, "test/tiles/rnn");
    let mut xs: Vec<Matrix<f64>> = (0..len)
        .map(|_| Matrix::from_fn(n, d, |_, _| rng::normal(&mut g)))
        .collect();
    xs[0].row_mut(7).iter_mut().for_each(|v| *v = 0.0);
    for preset in [Preset::Elman, Preset::Wang] {
        let k = RnnInfKernel::new(preset, &xs).unwrap();
        let h = dense_f64(&k).unwrap();
        assert_eq!(rnn_ntk_infinite(preset, &xs).unwrap(), h);
        // independent reference: H = Σ_ℓ F^ℓ ∘ K^{ℓ−1} from the scalar recursion
        let kf = forward_correlations(preset, &xs).unwrap();
        let fb = backward_correlations(preset, &xs).unwrap();
        for i in 0..n {
            for j in 0..n {
                let want: f64 = (0..len).map(|l| fb[l].get(i, j) * kf[l].get(i, j)).sum();
                let got = h.get(i, j);
                assert!(
                    (got - want).abs() <= 1e-13 * want.abs().max(1e-300),
                    "{preset:?} ({i}, {j}) {got:e} vs {want:e}"
                );
            }
        }
        tiles_match_dense(&k, &h, "rnn");
    }
}

fn tmpdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn npy_writer_files_equal_the_dense_matrix_in_both_modes() {
    let (n, d) = (600, 11);
    let x = normal(n, d, 5);
    let dir = tmpdir();
    let k = HInfKernel::new(&x).unwrap();
    let h = dense_f64(&k).unwrap();
    let h32 = dense_f32(&k).unwrap();
    for mode in [WriteMode::Symmetric, WriteMode::Streaming] {
        let p = dir.path().join(format!("h64-{mode:?}.npy"));
        assert_eq!(
            write_npy_mode(&k, &p, NpyDtype::F64, mode, false).unwrap(),
            mode
        );
        let back: Matrix<f64> = npy::read_matrix(&p).unwrap();
        bits_equal(&back, &h, "f64 file");
        let p = dir.path().join(format!("h32-{mode:?}.npy"));
        write_npy_mode(&k, &p, NpyDtype::F32, mode, false).unwrap();
        let back: Matrix<f32> = npy::read_matrix(&p).unwrap();
        bits_equal(&back, &h32, "f32 file");
    }
    // the automatic choice with the default budget is the symmetric mode
    let p = dir.path().join("auto.npy");
    assert_eq!(
        write_npy(&k, &p, NpyDtype::F64, false).unwrap(),
        WriteMode::Symmetric
    );
    // nothing but the outputs is left in the directory (no temporary files)
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names
        .iter()
        .all(|s| s.ends_with(".npy") && !s.starts_with('.')));
    // a writer into a missing directory names the path
    let bad = dir.path().join("missing/dir/h.npy");
    let e = write_npy(&k, &bad, NpyDtype::F64, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing/dir/h.npy"), "{e}");
}

#[test]
fn matvec_equals_dense_product_and_is_bit_identical_across_thread_counts() {
    let (n, d) = (700, 8);
    let x = normal(n, d, 6);
    let v = normal(n, 3, 7);
    let kernels: Vec<Box<dyn TileKernel>> = vec![
        Box::new(HInfKernel::new(&x).unwrap()),
        Box::new(FcKernel::ntk(&x, 3, FcTrained::All).unwrap()),
        Box::new(ClassicKernel::gaussian(&x, 4.0).unwrap()),
    ];
    for k in &kernels {
        let h = dense_f64(k.as_ref()).unwrap();
        let want = matmul(h.view(), v.view()).unwrap();
        let got = matvec(k.as_ref(), &v).unwrap();
        let scale = want.frobenius();
        for i in 0..n {
            for c in 0..3 {
                assert!(
                    (got.get(i, c) - want.get(i, c)).abs() <= 1e-12 * scale,
                    "{}: ({i}, {c}) {} vs {}",
                    k.name(),
                    got.get(i, c),
                    want.get(i, c)
                );
            }
        }
        let runs: Vec<Matrix<f64>> = [1, 3, 2]
            .iter()
            .map(|&t| crate::support::on_threads(t, || matvec(k.as_ref(), &v).unwrap()))
            .collect();
        bits_equal(&runs[0], &runs[1], "1 vs 3 threads");
        bits_equal(&runs[0], &runs[2], "1 vs 2 threads");
        bits_equal(&runs[0], &got, "1 thread vs the global pool");
    }
    // a single vector (b = 1) and a shape error naming the sizes
    let v1 = normal(n, 1, 8);
    let k = HInfKernel::new(&x).unwrap();
    let h = dense_f64(&k).unwrap();
    let want = matmul(h.view(), v1.view()).unwrap();
    let got = matvec(&k, &v1).unwrap();
    for i in 0..n {
        assert!((got.get(i, 0) - want.get(i, 0)).abs() <= 1e-12 * want.frobenius());
    }
    let e = matvec(&k, &normal(n + 1, 1, 9)).unwrap_err().to_string();
    assert!(e.contains(&format!("{}", n + 1)), "{e}");
}

#[test]
fn dense_drivers_are_bit_identical_across_thread_counts() {
    let (n, d) = (600, 5);
    let x = normal(n, d, 10);
    let k = FcKernel::ntk(&x, 3, FcTrained::All).unwrap();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| dense_f64(&k).unwrap());
    let three = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap()
        .install(|| dense_f64(&k).unwrap());
    bits_equal(&one, &three, "dense 1 vs 3 threads");
}

#[test]
fn stored_kernel_reads_a_file_and_refuses_bad_ones() {
    let dir = tmpdir();
    let (n, d) = (300, 7);
    let x = normal(n, d, 11);
    let k = HInfKernel::new(&x).unwrap();
    let h = dense_f64(&k).unwrap();
    // f64 and f32 files written by the tile writer, read back through tiles
    let p64 = dir.path().join("k64.npy");
    write_npy(&k, &p64, NpyDtype::F64, false).unwrap();
    let s = StoredKernel::open(&p64).unwrap();
    assert_eq!(s.n(), n);
    bits_equal(&dense_f64(&s).unwrap(), &h, "stored f64");
    tiles_match_dense(&s, &h, "stored f64");
    let p32 = dir.path().join("k32.npy");
    write_npy(&k, &p32, NpyDtype::F32, false).unwrap();
    let s32 = StoredKernel::open(&p32).unwrap();
    bits_equal(
        &dense_f32(&s32).unwrap(),
        &dense_f32(&k).unwrap(),
        "stored f32",
    );
    // matrix-free product over the mapped file equals the one over the inputs
    let v = normal(n, 2, 12);
    bits_equal(
        &matvec(&s, &v).unwrap(),
        &matvec(&k, &v).unwrap(),
        "stored matvec",
    );
    // from_matrix
    let sm = StoredKernel::from_matrix(h.clone()).unwrap();
    bits_equal(&dense_f64(&sm).unwrap(), &h, "from_matrix");

    let refuse = |name: &str, shape: &[usize], data: &[f64], needle: &str| {
        let p = dir.path().join(name);
        npy::write_array(&p, shape, data).unwrap();
        let e = StoredKernel::open(&p).err().expect("refused").to_string();
        assert!(e.contains(name), "{e}");
        assert!(e.contains(needle), "{name}: {e}");
    };
    refuse("rect.npy", &[3, 4], &[0.0; 12], "square");
    refuse("cube.npy", &[2, 2, 2], &[0.0; 8], "square");
    let mut m = h.clone();
    m.set(5, 2, f64::NAN);
    refuse("nan.npy", &[n, n], m.as_slice(), "(5, 2)");
    let mut m = h.clone();
    m.set(40, 3, f64::INFINITY);
    refuse("inf.npy", &[n, n], m.as_slice(), "(40, 3)");
    let mut m = h.clone();
    let v = m.get(200, 17);
    m.set(200, 17, v + 1e-3);
    m.set(100, 9, m.get(100, 9) + 1e-9); // a smaller asymmetry elsewhere
    refuse("asym.npy", &[n, n], m.as_slice(), "K[200][17]");
    // within the tolerance: accepted
    let mut m = h.clone();
    m.set(200, 17, m.get(200, 17) * (1.0 + 1e-13));
    let p = dir.path().join("nearly.npy");
    npy::write_matrix(&p, &m).unwrap();
    assert!(StoredKernel::open(&p).is_ok());
    // not a .npy at all, and an integer array
    let p = dir.path().join("junk.npy");
    std::fs::write(&p, b"hello").unwrap();
    let e = StoredKernel::open(&p).err().unwrap().to_string();
    assert!(e.contains("junk.npy"), "{e}");
    let p = dir.path().join("int.npy");
    let mut bytes = widenet::kernels::tile::npy_header("<i8", 2);
    bytes.extend([0u8; 32]);
    std::fs::write(&p, &bytes).unwrap();
    let e = StoredKernel::open(&p).err().unwrap().to_string();
    assert!(e.contains("int.npy") && e.contains("<i8"), "{e}");
    // a truncated file
    let p = dir.path().join("short.npy");
    let mut bytes = widenet::kernels::tile::npy_header("<f8", 4);
    bytes.extend([0u8; 40]);
    std::fs::write(&p, &bytes).unwrap();
    let e = StoredKernel::open(&p).err().unwrap().to_string();
    assert!(e.contains("short.npy") && e.contains("bytes"), "{e}");
    // arrays
    let e = StoredKernel::from_matrix(Matrix::zeros(2, 3))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("square"), "{e}");
    let mut m = Matrix::<f64>::from_fn(3, 3, |i, j| if i == j { 1.0 } else { 0.1 });
    m.set(2, 0, 0.2);
    let e = StoredKernel::from_matrix(m).err().unwrap().to_string();
    assert!(e.contains("K[2][0]") && e.contains("not symmetric"), "{e}");
}

#[test]
fn kernel_command_streams_under_a_small_memory_budget() {
    let dir = tmpdir();
    let (n, d) = (600, 9);
    let x = normal(n, d, 13);
    let xp = dir.path().join("X.npy");
    npy::write_matrix(&xp, &x).unwrap();
    for (prec, budget) in [("f64", "100K"), ("f32", "64M")] {
        let hp = dir.path().join(format!("H-{prec}.npy"));
        let st = std::process::Command::new(env!("CARGO_BIN_EXE_widenet"))
            .args(["kernel", "relu-ntk", "--x"])
            .arg(&xp)
            .arg("--out")
            .arg(&hp)
            .args(["--precision", prec, "--memory-budget", budget])
            .output()
            .unwrap();
        let msg = String::from_utf8_lossy(&st.stderr);
        assert!(st.status.success(), "{msg}");
        // 600² f64 is 2.9 MB > 100K / 2: streamed; 600² f32 fits 64M / 2: symmetric
        assert_eq!(msg.contains("streaming mode"), prec == "f64", "{msg}");
        if prec == "f64" {
            let back: Matrix<f64> = npy::read_matrix(&hp).unwrap();
            bits_equal(&back, &h_inf(&x).unwrap(), "streamed f64 file");
        } else {
            let back: Matrix<f32> = npy::read_matrix(&hp).unwrap();
            bits_equal(&back, &h_inf(&x.cast::<f32>()).unwrap(), "f32 file");
        }
    }
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_widenet"))
        .args(["kernel", "arcsin", "--x"])
        .arg(&xp)
        .arg("--out")
        .arg(dir.path().join("A.npy"))
        .args(["--memory-budget", "lots"])
        .output()
        .unwrap();
    assert!(!st.status.success());
    assert!(String::from_utf8_lossy(&st.stderr).contains("--memory-budget"));
}

/// The written file is an ordinary one (0666 less the umask), not tempfile's 0600.
#[cfg(unix)]
#[test]
fn written_kernels_have_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let x = Matrix::from_fn(20, 3, |i, j| (i * 3 + j) as f64 + 1.0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("H.npy");
    let k = HInfKernel::new(&x).unwrap();
    write_npy_mode(&k, &out, NpyDtype::F64, WriteMode::Symmetric, false).unwrap();
    let plain = dir.path().join("plain");
    std::fs::write(&plain, b"x").unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), mode(&plain) & 0o666);
}
