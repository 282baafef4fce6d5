//! Progress for long work when stdout is not a terminal (a CI log, `| tee`):
//! a plain line on stderr every few seconds, with work done, simulated
//! operations per second and the time left. On a terminal the sweep's bar
//! shows the same.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Seconds between two progress lines.
pub const EVERY: Duration = Duration::from_secs(5);

/// Set by `ttlsim run` when stdout is not a terminal: a single run then
/// prints progress lines (a sweep reports whole runs instead).
pub static SINGLE_RUN: AtomicBool = AtomicBool::new(false);

/// Whether a single run prints progress lines.
pub fn single_run() -> bool {
    SINGLE_RUN.load(Ordering::Relaxed)
}

/// Prints `progress: ...` lines on stderr at most every [`EVERY`].
#[derive(Debug)]
pub struct Plain {
    what: &'static str,
    total: u64,
    start: Instant,
    last: Mutex<Instant>,
}

impl Plain {
    /// Progress over `total` units of `what` (`runs`, `% simulated`).
    pub fn new(what: &'static str, total: u64) -> Self {
        let now = Instant::now();
        Plain {
            what,
            total,
            start: now,
            last: Mutex::new(now),
        }
    }

    /// Reports `done` units and `ops` simulated operations so far; prints a
    /// line when [`EVERY`] has passed since the last.
    pub fn tick(&self, done: u64, ops: u64) {
        let now = Instant::now();
        {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if now.duration_since(*last) < EVERY {
                return;
            }
            *last = now;
        }
        eprintln!("{}", self.line(done, ops, now.duration_since(self.start)));
    }

    /// The line for `done` units and `ops` operations after `elapsed`.
    pub fn line(&self, done: u64, ops: u64, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let eta = if done == 0 {
            "unknown".to_string()
        } else {
            let left = secs * (self.total.saturating_sub(done)) as f64 / done as f64;
            crate::units::Dur((left * 1e6) as u64 / 1_000_000 * 1_000_000).to_string()
        };
        format!(
            "progress: {done}/{} {}, {:.2}M sim ops/s, elapsed {}, ETA {eta}",
            self.total,
            self.what,
            ops as f64 / secs / 1e6,
            crate::units::Dur(elapsed.as_secs() * 1_000_000),
        )
    }
}

/// When Ctrl-C stops a sweep, says how to go on: the finished runs are on
/// disk and the same command with `--resume` continues from them. The
/// handler only writes a fixed message and exits with 130, as a shell
/// expects after SIGINT (both are async-signal-safe); a part file left
/// half-written is cleaned by `--resume`, as after a kill.
#[cfg(unix)]
pub fn explain_interrupt() {
    extern "C" fn on_sigint(_: libc::c_int) {
        const MSG: &[u8] = b"\ninterrupted: the finished runs are saved; \
            the same command with --resume continues from them\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe.
        unsafe {
            libc::write(2, MSG.as_ptr().cast(), MSG.len());
            libc::_exit(130);
        }
    }
    // SAFETY: installs a handler that calls only async-signal-safe functions.
    unsafe {
        libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t);
    }
}

/// Elsewhere Ctrl-C stops the sweep with the system's default action.
#[cfg(not(unix))]
pub fn explain_interrupt() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_done_rate_and_eta() {
        let p = Plain::new("runs", 240);
        assert_eq!(
            p.line(60, 30_000_000, Duration::from_secs(10)),
            "progress: 60/240 runs, 3.00M sim ops/s, elapsed 10s, ETA 30s"
        );
        assert!(p
            .line(0, 0, Duration::from_secs(1))
            .ends_with("ETA unknown"));
    }
}
