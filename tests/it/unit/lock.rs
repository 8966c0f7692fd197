//! Unit tests of `widenet::lock` (formerly in src/lock.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::lock::*;

#[test]
fn second_owner_refused_stale_lock_reclaimed() {
    let dir = tempfile::tempdir().unwrap();
    let a = OutputLock::acquire(dir.path()).unwrap();
    let text = std::fs::read_to_string(a.path()).unwrap();
    assert_eq!(text.trim(), std::process::id().to_string());
    let e = OutputLock::acquire(dir.path()).unwrap_err().to_string();
    assert!(e.contains("--out") && e.contains("in use"), "{e}");
    drop(a);
    assert!(!dir.path().join(LOCK_NAME).exists());
    // a lock left by a process that no longer exists (pid beyond pid_max)
    std::fs::write(dir.path().join(LOCK_NAME), "4194305\n").unwrap();
    let b = OutputLock::acquire(dir.path()).unwrap();
    assert!(b.path().exists());
}
