//! Ctrl-C during a kernel write: an interrupt requested from another thread
//! mid-write stops the tile drivers with `Error::Interrupted` and leaves no file.
//! (The interrupt flag is process-wide: the binary's tests run one at a time.)

use std::ops::Range;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use widenet::error::{Error, Result};
use widenet::kernels::relu_ntk::HInfKernel;
use widenet::kernels::tile::{
    dense_f64, matvec, write_npy_mode, NpyDtype, TileKernel, WriteMode, TILE,
};
use widenet::linalg::Matrix;
use widenet::runtime::{clear_interrupt, interrupted, request_interrupt};

/// H^∞, but the first tile of tile row 2 asks another thread to interrupt and
/// waits (up to 10 s) until the request has landed: an interrupt mid-write.
struct Tripwire<'a> {
    inner: HInfKernel<'a>,
    tx: std::sync::Mutex<Option<mpsc::Sender<()>>>,
}

impl Tripwire<'_> {
    fn trip(&self, rows: &Range<usize>) {
        if rows.start == 2 * TILE {
            if let Some(tx) = self.tx.lock().unwrap().take() {
                tx.send(()).unwrap();
                let t = Instant::now();
                while !interrupted() && t.elapsed() < Duration::from_secs(10) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
}

impl TileKernel for Tripwire<'_> {
    fn n(&self) -> usize {
        self.inner.n()
    }
    fn name(&self) -> String {
        "tripwire".into()
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        self.trip(&rows);
        self.inner.tile_f64(rows, cols, out)
    }
    fn tile_f32(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f32]) -> Result<()> {
        self.trip(&rows);
        self.inner.tile_f32(rows, cols, out)
    }
}

fn run_interrupted<T>(x: &Matrix<f64>, f: impl FnOnce(&Tripwire<'_>) -> Result<T>) -> Result<T> {
    clear_interrupt();
    let (tx, rx) = mpsc::channel();
    let k = Tripwire {
        inner: HInfKernel::new(x).unwrap(),
        tx: std::sync::Mutex::new(Some(tx)),
    };
    let waiter = std::thread::spawn(move || {
        rx.recv().unwrap();
        request_interrupt();
    });
    let r = f(&k);
    waiter.join().unwrap();
    r
}

#[test]
fn an_interrupt_mid_write_leaves_no_file() {
    let _serial = crate::serial();
    let (n, d) = (6 * TILE + 10, 5);
    let mut g = widenet::rng::stream(1, "test/interrupt");
    let x = Matrix::from_fn(n, d, |_, _| widenet::rng::normal(&mut g));
    let dir = tempfile::tempdir().unwrap();
    for (mode, dtype) in [
        (WriteMode::Symmetric, NpyDtype::F64),
        (WriteMode::Streaming, NpyDtype::F32),
    ] {
        let out = dir.path().join("H.npy");
        let r = run_interrupted(&x, |k| write_npy_mode(k, &out, dtype, mode, false));
        assert!(matches!(r, Err(Error::Interrupted)), "{mode:?}: {r:?}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{mode:?} left {left:?}");
    }
    // an existing output survives an interrupted rewrite untouched
    let out = dir.path().join("H.npy");
    std::fs::write(&out, b"previous").unwrap();
    let r = run_interrupted(&x, |k| {
        write_npy_mode(k, &out, NpyDtype::F64, WriteMode::Symmetric, false)
    });
    assert!(matches!(r, Err(Error::Interrupted)));
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // the other drivers stop too
    let v = Matrix::from_fn(n, 1, |i, _| i as f64);
    assert!(matches!(
        run_interrupted(&x, |k| matvec(k, &v)),
        Err(Error::Interrupted)
    ));
    assert!(matches!(
        run_interrupted(&x, |k| dense_f64(k)),
        Err(Error::Interrupted)
    ));
    // once cleared, the same write completes
    clear_interrupt();
    let k = HInfKernel::new(&x).unwrap();
    write_npy_mode(&k, &out, NpyDtype::F64, WriteMode::Streaming, false).unwrap();
    let back: Matrix<f64> = widenet::data::npy::read_matrix(&out).unwrap();
    assert_eq!(back, dense_f64(&k).unwrap());
}
