//! The tests that set process-wide state (the interrupt flag, the memory budget): one
//! binary, apart from tests/it, whose tests run one at a time (`serial`), so that an
//! interrupt or a tiny budget never reaches a test running beside it. One binary for the
//! three files instead of three: one link, the CI wall time (issue 24 item 5).

mod interrupt;
// the fixtures of tests/it, one copy for both binaries (not every helper is used here)
mod large_n;
#[allow(dead_code)]
#[path = "../it/support.rs"]
mod support;
mod tile_interrupt;

/// Every test of this binary holds this lock for its whole run.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
