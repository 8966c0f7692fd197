//! One owner per output directory: a lock file that `run`, `reproduce` and
//! `train` take in their `--out` directory, so that two runs writing to the
//! same place cannot interleave their files (a result.json of one seed over
//! the runs of another).
//!
//! The lock is the file `OUT/.widenet.lock`, created atomically with
//! `create_new` (O_EXCL) and holding the owner's process id. It is removed
//! when the [`OutputLock`] is dropped. A lock whose process no longer exists
//! (a run that was killed) is stale and is taken over.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file's name inside the output directory.
pub const LOCK_NAME: &str = ".widenet.lock";

/// A held lock on an output directory; released on drop.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
}

/// Whether process `pid` exists (Linux `/proc`; elsewhere, assume it does).
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if Path::new("/proc/self").exists() {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

impl OutputLock {
    /// Takes the lock on `dir` (created if missing). A second live owner gives
    /// an error naming the directory and its process id; a stale lock of a dead
    /// process is reclaimed.
    pub fn acquire(dir: &Path) -> Result<OutputLock> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK_NAME);
        // two tries: the second after removing a stale lock
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    writeln!(f, "{}", std::process::id()).map_err(|e| Error::io(&path, e))?;
                    return Ok(OutputLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    match text.trim().parse::<u32>() {
                        Ok(pid) if alive(pid) => {
                            return Err(Error::invalid(
                                "--out",
                                format!(
                                    "{} is in use by another widenet run (process {pid}, \
                                     lock file {}); wait for it to finish or choose another \
                                     --out",
                                    dir.display(),
                                    path.display()
                                ),
                            ))
                        }
                        Ok(_) => {
                            // stale: its owner is gone
                            let _ = std::fs::remove_file(&path);
                        }
                        Err(_) => {
                            // being written right now, or damaged: treat as held unless
                            // it is older than a minute
                            let old = std::fs::metadata(&path)
                                .and_then(|m| m.modified())
                                .ok()
                                .and_then(|t| t.elapsed().ok())
                                .is_some_and(|age| age.as_secs() > 60);
                            if old {
                                let _ = std::fs::remove_file(&path);
                            } else {
                                return Err(Error::invalid(
                                    "--out",
                                    format!(
                                        "{} is being claimed by another widenet run (lock \
                                         file {})",
                                        dir.display(),
                                        path.display()
                                    ),
                                ));
                            }
                        }
                    }
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::invalid(
            "--out",
            format!("could not take the lock {}", path.display()),
        ))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
