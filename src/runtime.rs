//! Process-wide run-time services shared by every long computation: a
//! cancellation flag (Ctrl-C in the CLI, KeyboardInterrupt in Python), a memory
//! budget that allocations sized by a header or a flag are checked against, and
//! one progress-bar style.
//!
//! Long loops (kernel tiles, GD iterations, SGD epochs, solver iterations,
//! sweeps) call [`check_interrupt`] about once per second of work or more often;
//! it returns [`Error::Interrupted`] once [`request_interrupt`] was called, so
//! the caller unwinds through `?` and never writes a partial output (outputs are
//! written atomically, at the end).

use crate::error::{Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// 0 means "not set": [`memory_budget`] then uses [`default_memory_budget`].
static MEMORY_BUDGET: AtomicU64 = AtomicU64::new(0);

/// Asks every running computation to stop at its next [`check_interrupt`].
pub fn request_interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Clears a previous interrupt request (call before starting new work).
pub fn clear_interrupt() {
    INTERRUPTED.store(false, Ordering::SeqCst);
}

/// Whether an interrupt was requested.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// `Err(Error::Interrupted)` once an interrupt was requested.
#[inline]
pub fn check_interrupt() -> Result<()> {
    if interrupted() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// Installed physical memory in bytes (Linux `/proc/meminfo` MemTotal), or
/// `None` where it cannot be read.
pub fn physical_memory() -> Option<u64> {
    meminfo_field("MemTotal:")
}

/// Memory the kernel reports as available now (`/proc/meminfo` MemAvailable).
pub fn available_memory() -> Option<u64> {
    meminfo_field("MemAvailable:")
}

fn meminfo_field(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// The default memory budget: 75% of physical memory (8 GiB assumed where it
/// cannot be read), leaving room for the OS and the caller's own arrays.
pub fn default_memory_budget() -> u64 {
    let phys = physical_memory().unwrap_or(8 << 30);
    phys / 4 * 3
}

/// The memory budget in bytes: the value set by [`set_memory_budget`] (the
/// `--memory-budget` flag), else [`default_memory_budget`].
pub fn memory_budget() -> u64 {
    match MEMORY_BUDGET.load(Ordering::Relaxed) {
        0 => default_memory_budget(),
        b => b,
    }
}

/// Sets the process-wide memory budget (bytes); 0 restores the default.
pub fn set_memory_budget(bytes: u64) {
    MEMORY_BUDGET.store(bytes, Ordering::Relaxed);
}

/// Parses a size such as `20G`, `512M`, `1.5GiB`, `100000` (bytes) for the
/// flag or field `name`.
pub fn parse_bytes(name: &str, s: &str) -> Result<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '+'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| Error::invalid(name, format!("'{s}' is not a size (e.g. 20G, 512M)")))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        u => {
            return Err(Error::invalid(
                name,
                format!("unknown unit '{u}' in '{s}' (use K, M, G or T)"),
            ))
        }
    };
    let bytes = v * mult;
    if !(1.0..1.0e18).contains(&bytes) {
        return Err(Error::invalid(
            name,
            format!("'{s}' must be a positive size below 1e18 bytes"),
        ));
    }
    Ok(bytes as u64)
}

/// Bytes as a short human-readable figure ("1.50 GiB").
pub fn fmt_bytes(b: u128) -> String {
    let b = b as f64;
    if b >= (1u64 << 30) as f64 {
        format!("{:.2} GiB", b / (1u64 << 30) as f64)
    } else if b >= (1u64 << 20) as f64 {
        format!("{:.1} MiB", b / (1u64 << 20) as f64)
    } else {
        format!("{b:.0} B")
    }
}

/// Checks that an allocation of `count` elements of `elem_bytes` bytes each for
/// `what` fits the memory budget, with overflow-checked arithmetic. Call it
/// before allocating anything whose size comes from a file header or a flag.
pub fn check_alloc(what: &str, count: u128, elem_bytes: u128) -> Result<usize> {
    let bytes = count.saturating_mul(elem_bytes);
    let budget = memory_budget() as u128;
    if bytes > budget || count > usize::MAX as u128 {
        return Err(Error::Resource {
            what: what.to_string(),
            needed: fmt_bytes(bytes),
            budget: fmt_bytes(budget),
        });
    }
    Ok(count as usize)
}

/// A progress bar with widenet's one style (`prefix [=====>   ] pos/len msg (eta)`),
/// drawn on stderr when `show`, hidden otherwise.
pub fn progress_bar(len: u64, prefix: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} (ETA {eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    b.set_prefix(prefix.to_string());
    b
}

/// Per-phase wall-clock profiling of long solvers (`WIDENET_PROFILE`).
pub mod profile;
