//! Per-phase wall-clock accumulators for long solvers (the large-n analysis),
//! filled only when the environment variable `WIDENET_PROFILE` is set: how a
//! run's time splits between products, reorthogonalization, Rayleigh–Ritz and
//! the solve, measured rather than guessed.

/// Per-phase wall-clock accumulators, filled only when the environment variable
/// `WIDENET_PROFILE` is set (printed to stderr by [`print_profile`], e.g. at the end of
/// [`crate::theory::large_n::analyze_kernel`]):
/// how the large-n path's time splits between products, reorthogonalization,
/// Rayleigh–Ritz and the solve, measured rather than guessed.
static PROFILE: std::sync::Mutex<Vec<(&'static str, f64, usize)>> =
    std::sync::Mutex::new(Vec::new());

/// Whether `WIDENET_PROFILE` is set (read once).
pub fn profiling() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("WIDENET_PROFILE").is_some())
}

/// Runs `f`, adding its wall-clock time to the accumulator `name` when profiling.
pub fn prof<R>(name: &'static str, f: impl FnOnce() -> R) -> R {
    if !profiling() {
        return f();
    }
    let t = std::time::Instant::now();
    let r = f();
    let dt = t.elapsed().as_secs_f64();
    let mut p = PROFILE.lock().unwrap_or_else(|e| e.into_inner());
    match p.iter_mut().find(|e| e.0 == name) {
        Some(e) => {
            e.1 += dt;
            e.2 += 1;
        }
        None => p.push((name, dt, 1)),
    }
    r
}

/// A scope timer for [`prof`]'s accumulators (for code with early returns).
pub struct ProfTimer(&'static str, Option<std::time::Instant>);

impl ProfTimer {
    /// Starts timing `name` (a no-op unless profiling).
    pub fn new(name: &'static str) -> Self {
        ProfTimer(name, profiling().then(std::time::Instant::now))
    }
}

impl Drop for ProfTimer {
    fn drop(&mut self) {
        if let Some(t) = self.1 {
            let dt = t.elapsed().as_secs_f64();
            let mut p = PROFILE.lock().unwrap_or_else(|e| e.into_inner());
            match p.iter_mut().find(|e| e.0 == self.0) {
                Some(e) => {
                    e.1 += dt;
                    e.2 += 1;
                }
                None => p.push((self.0, dt, 1)),
            }
        }
    }
}

/// Prints the accumulators to stderr and clears them (when profiling).
pub fn print_profile() {
    if !profiling() {
        return;
    }
    let mut p = PROFILE.lock().unwrap_or_else(|e| e.into_inner());
    for (name, t, c) in p.iter() {
        eprintln!("[profile] {name:<34} {t:9.3} s  {c:6} calls");
    }
    p.clear();
}
