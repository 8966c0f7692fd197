//! Profiling of long solvers (the large-n analysis), in the runtime rather than in the
//! solvers: [`Phases`] records a run's phases as they end (the record its result carries,
//! e.g. `LargeNAnalysis::timings`), the accumulators ([`prof`], [`ProfTimer`]) time the
//! sections inside them, and [`report`] is the one place that writes to stderr. With the
//! environment variable `WIDENET_PROFILE` set, each phase, each solver note (a
//! preconditioner trial, a refinement step) and, at the end, the accumulators are
//! reported as `[profile] …` lines: how a run's time splits between products,
//! reorthogonalization, Rayleigh–Ritz and the solve, measured rather than guessed.
//! Without it nothing is printed and only the phases are recorded.

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

/// Reports the accumulators ([`report`]) and clears them (when profiling).
pub fn print_profile() {
    if !profiling() {
        return;
    }
    let mut p = PROFILE.lock().unwrap_or_else(|e| e.into_inner());
    for (name, t, c) in p.iter() {
        report(|| format!("{name:<34} {t:9.3} s  {c:6} calls"));
    }
    p.clear();
}

/// The runtime's profile reporter: `line()` on stderr as `[profile] …` when
/// `WIDENET_PROFILE` is set; otherwise nothing (the line is not even formatted). The
/// solvers report what a phase decided or measured through it, never by printing.
pub fn report(line: impl FnOnce() -> String) {
    if profiling() {
        eprintln!("[profile] {}", line());
    }
}

/// The phases of one run, recorded as each ends: (name, wall-clock seconds), in the
/// order they ran. [`Phases::finish`] returns the record (a result's `timings`). With
/// `WIDENET_PROFILE` each phase is also reported as it ends, so that a run stopped early
/// still tells its split, and `finish` reports the accumulators.
#[derive(Debug)]
pub struct Phases {
    clock: std::time::Instant,
    done: Vec<(String, f64)>,
}

impl Phases {
    /// Starts the first phase's clock.
    pub fn start() -> Self {
        Phases {
            clock: std::time::Instant::now(),
            done: Vec::new(),
        }
    }

    /// Ends the phase `name` (begun at the previous lap, or at [`Phases::start`]) and
    /// starts the next one's clock.
    pub fn lap(&mut self, name: &str) {
        let dt = self.clock.elapsed().as_secs_f64();
        report(|| format!("phase '{name}' done: {dt:.3} s"));
        self.done.push((name.to_string(), dt));
        self.clock = std::time::Instant::now();
    }

    /// The names of the phases ended so far, in order.
    pub fn names(&self) -> Vec<&str> {
        self.done.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The record: every phase ended, in order (the accumulators are reported when
    /// profiling, and cleared).
    pub fn finish(self) -> Vec<(String, f64)> {
        print_profile();
        self.done
    }
}
