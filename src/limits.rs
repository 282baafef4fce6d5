//! Every bound ttlsim puts on its inputs, in one place (README "Limits"
//! lists them and how to raise each), and the work and memory estimate a
//! run is checked against before it starts.

use crate::units::Dur;
use crate::workload::Workload;
use anyhow::{bail, Result};

/// Most worker threads a sweep starts (`--jobs`).
pub const MAX_JOBS: usize = 1024;
/// Shortest `--sample-interval`.
pub const MIN_SAMPLE_INTERVAL: Dur = Dur(1_000);
/// Longest `--sample-interval` (365 days).
pub const MAX_SAMPLE_INTERVAL: Dur = Dur(365 * 86_400 * 1_000_000);
/// Longest `--duration` of `run`/`record` (36,500 days).
pub const MAX_DURATION: Dur = Dur(36_500 * 86_400 * 1_000_000);
/// Longest `shell` input line: Redis's own limit for an inline command
/// (`PROTO_INLINE_MAX_SIZE`, 64 KiB).
pub const MAX_SHELL_LINE: usize = 64 * 1024;
/// Longest line of a text trace (16 MiB).
pub const MAX_TRACE_LINE: usize = 16 << 20;
/// Most metric samples one run takes (23 days at the default 1 s
/// interval): a longer run needs a longer `--sample-interval`.
pub const MAX_SAMPLES: u64 = 2_000_000;

/// Refuses a run that has taken (or would take) more than
/// [`MAX_SAMPLES`] samples at `interval_us`.
pub fn check_samples(samples: u64, interval_us: u64) -> Result<()> {
    if samples > MAX_SAMPLES {
        bail!(
            "the run spans more than {MAX_SAMPLES} sample intervals of {}: give a longer --sample-interval (README \"Limits\")",
            Dur(interval_us)
        );
    }
    Ok(())
}

/// Most cron ticks one run may run with keys left to expire (23 days at
/// hz 500, 3.2 years at the default hz 10; some 8 minutes of work at worst).
/// Ticks while no key has a TTL are skipped for free and do not count.
pub const MAX_BUSY_TICKS: u64 = 1_000_000_000;

/// Refuses a run that has run more than [`MAX_BUSY_TICKS`] cron ticks with
/// keys to expire, `span_us` into the run, a tick every `period_us`.
#[inline]
pub fn check_busy_ticks(ticks: u64, span_us: u64, period_us: u64) -> Result<()> {
    if ticks > MAX_BUSY_TICKS {
        bail!(
            "the run has run more than {MAX_BUSY_TICKS} cron ticks with keys left to expire ({} at hz {}): shorten it with --duration or lower --hz (README \"Limits\")",
            Dur(span_us),
            1_000_000 / period_us.max(1)
        );
    }
    Ok(())
}

/// The simulated clock's ceiling in µs (2^62, about 146,000 years after
/// 1970): the shell clock stops there instead of wrapping.
pub const MAX_CLOCK_US: u64 = 1 << 62;
/// Largest `shell --start-ms`.
pub const MAX_START_MS: u64 = MAX_CLOCK_US / 1000;
/// Most client arrivals a run may be estimated to simulate without
/// `--force` (about an hour of simulation at 5M events/s).
pub const WORK_BUDGET: f64 = 2e10;
/// Estimated bytes of simulator memory per live key (store entry, key
/// book, eviction structures).
pub const BYTES_PER_KEY: f64 = 160.0;

/// Checks a flag's number against a range: `--jobs 0` and `--jobs 99999`
/// are refused with the range.
pub fn check_jobs(jobs: usize) -> Result<usize> {
    if !(1..=MAX_JOBS).contains(&jobs) {
        bail!("--jobs must be between 1 and {MAX_JOBS}, not {jobs}");
    }
    Ok(jobs)
}

/// Parses `--sample-interval`: a duration in
/// [`MIN_SAMPLE_INTERVAL`]..=[`MAX_SAMPLE_INTERVAL`].
pub fn sample_interval(text: &str) -> Result<Dur> {
    let d = Dur::parse(text).map_err(|e| anyhow::anyhow!("--sample-interval: {e}"))?;
    if d < MIN_SAMPLE_INTERVAL || d > MAX_SAMPLE_INTERVAL {
        bail!(
            "--sample-interval must be between {MIN_SAMPLE_INTERVAL} and {MAX_SAMPLE_INTERVAL}, not {text}"
        );
    }
    Ok(d)
}

/// What [`read_line_bounded`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// A line (without its `\n`) is in the buffer.
    Read,
    /// The line was longer than the bound; it was skipped to its end.
    TooLong,
    /// End of input.
    End,
}

/// Reads one `\n`-terminated line into `buf` (cleared first), holding at
/// most `max` bytes: a longer line is consumed to its end without being
/// kept, so `/dev/zero` or a 1 GB line costs bounded memory.
pub fn read_line_bounded(
    r: &mut impl std::io::BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => Line::End,
                (true, true) => Line::TooLong,
                (true, false) => Line::Read,
            });
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        if !too_long {
            if buf.len() + take > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        r.consume(if done { take + 1 } else { take });
        if done {
            return Ok(if too_long { Line::TooLong } else { Line::Read });
        }
    }
}

/// A reader that fails once a line grows past `max` bytes, so a parser
/// that buffers whole records (the csv crate) holds bounded memory on
/// `/dev/zero` or a file without newlines.
pub struct LineCap<R> {
    inner: R,
    run: usize,
    max: usize,
}

impl<R> LineCap<R> {
    /// Wraps `inner`; lines may be at most `max` bytes.
    pub fn new(inner: R, max: usize) -> Self {
        LineCap { inner, run: 0, max }
    }
}

impl<R: std::io::Read> std::io::Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = &buf[..n];
        // Only the line that runs on from earlier reads and the last one can
        // be long; lines wholly inside one read are shorter than `buf`.
        let (head, tail) = match (memchr::memchr(b'\n', got), memchr::memrchr(b'\n', got)) {
            (Some(first), Some(last)) => (self.run + first, n - last - 1),
            _ => (self.run + n, self.run + n),
        };
        self.run = tail;
        if head.max(tail) > self.max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a line is longer than {} bytes (README \"Limits\")",
                    self.max
                ),
            ));
        }
        Ok(n)
    }
}

/// What a run is estimated to cost before it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Client arrivals (requests, logins, campaigns) over the run.
    pub arrivals: f64,
    /// Bytes of simulator memory for the keys alive at once.
    pub bytes: f64,
}

/// Sums every arrival process of a pattern (any field that reads as an
/// [`Arrival`](crate::workload::dist::Arrival)) and its key count (`keys`,
/// `users`, `feeds`, `resources`), walking the pattern's serde form so a
/// new pattern is covered without a change here.
fn walk(v: &toml::Value, secs: f64, duration: Dur, arrivals: &mut f64, keys: &mut f64) {
    let toml::Value::Table(t) = v else { return };
    for (k, v) in t {
        match (k.as_str(), v) {
            ("keys" | "users" | "feeds" | "resources", toml::Value::Integer(n)) => {
                *keys += *n as f64;
            }
            (_, toml::Value::Table(_)) => {
                match v.clone().try_into::<crate::workload::dist::Arrival>() {
                    Ok(a) => *arrivals += a.mean_rate(duration).max(0.0) * secs,
                    Err(_) => walk(v, secs, duration, arrivals, keys),
                }
            }
            _ => {}
        }
    }
}

/// The work and memory estimate of a generated workload: arrivals are the
/// mean rate of every arrival process times the duration (sessions' requests
/// multiply their logins); live keys are the key counts, or the arrivals
/// when a pattern makes new keys per arrival, whichever is smaller.
pub fn estimate(w: &Workload) -> Estimate {
    let duration = w.duration.unwrap_or_default();
    let secs = duration.secs();
    let mut total = Estimate {
        arrivals: 0.0,
        bytes: 0.0,
    };
    for p in &w.patterns {
        let Ok(v) = toml::Value::try_from(p) else {
            continue;
        };
        let (mut arrivals, mut keys) = (0.0, 0.0);
        walk(&v, secs, duration, &mut arrivals, &mut keys);
        let per = v
            .get("requests")
            .and_then(toml::Value::as_float)
            .unwrap_or(0.0);
        let live = if keys > 0.0 {
            keys.min(arrivals)
        } else {
            arrivals
        };
        total.arrivals += arrivals * (1.0 + per.max(0.0));
        total.bytes += live * BYTES_PER_KEY;
    }
    total
}

/// Memory the machine has free (`MemAvailable`), if known.
pub fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// Resident memory of this process, bytes (Linux `/proc/self/statm`).
pub fn resident_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok().filter(|p| *p > 0)?)
}

/// How far a replay's memory may grow ([`MemoryGuard`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryLimit {
    /// What the process had plus 90% of what the machine had free when the
    /// replay began.
    #[default]
    Machine,
    /// No limit (`--force`).
    Unlimited,
    /// Resident bytes of the whole process (tests).
    Bytes(u64),
}

/// A trace's memory cannot be estimated before it is read (its distinct
/// keys are known only at its end), so a replay checks as it goes: every
/// [`MemoryGuard::EVERY`] records it compares the process's resident memory
/// with what it had plus what the machine had free when it began, and stops
/// with an error (not the kernel's OOM kill) when the model outgrows it.
/// `--force` turns it off ([`MemoryLimit`]). The cost is one read of `/proc/self/statm` per
/// 65,536 records.
#[derive(Debug, Clone)]
pub struct MemoryGuard {
    /// Resident bytes above which the replay stops; `None`: unguarded.
    limit: Option<u64>,
    /// Free memory when the guard was made, for the message.
    free: u64,
    countdown: u32,
}

impl MemoryGuard {
    /// Records between two checks.
    pub const EVERY: u32 = 1 << 16;

    /// A guard for a replay starting now.
    pub fn new(limit: MemoryLimit) -> Self {
        let free = available_memory();
        let limit_bytes = match limit {
            MemoryLimit::Unlimited => None,
            MemoryLimit::Bytes(b) => Some(b),
            MemoryLimit::Machine => match (resident_memory(), free) {
                (Some(r), Some(f)) => Some(r + (f * 0.9) as u64),
                _ => None,
            },
        };
        MemoryGuard {
            limit: limit_bytes,
            free: free.unwrap_or(0.0) as u64,
            countdown: Self::EVERY,
        }
    }

    /// Counts one record; every [`Self::EVERY`] records, fails with a
    /// message (which `what` begins, such as the file and position) when
    /// resident memory is above the limit.
    #[inline(always)]
    pub fn tick(&mut self, what: impl FnOnce() -> String) -> Result<()> {
        self.countdown -= 1;
        if self.countdown > 0 {
            return Ok(());
        }
        self.check(what)
    }

    /// [`MemoryGuard::tick`]'s check, out of the per-record path.
    #[cold]
    #[inline(never)]
    fn check(&mut self, what: impl FnOnce() -> String) -> Result<()> {
        self.countdown = Self::EVERY;
        let (Some(limit), Some(rss)) = (self.limit, resident_memory()) else {
            return Ok(());
        };
        if rss > limit {
            let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
            bail!(
                "{}: the replay's memory has grown to {:.2} GiB, beyond its limit of {:.2} GiB (this process's memory \
                 plus 90% of the {:.2} GiB the machine had free when it began): the trace has more distinct keys than fit; \
                 set a smaller maxmemory, replay a prefix, or give --force",
                what(),
                gib(rss),
                gib(limit),
                gib(self.free)
            );
        }
        Ok(())
    }
}

/// Refuses a generated workload whose estimate is above the work budget or
/// the machine's free memory, unless `force`.
pub fn check_budget(w: &Workload, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    let e = estimate(w);
    if e.arrivals > WORK_BUDGET {
        bail!(
            "workload `{}` is estimated at {:.3e} client arrivals over {}, above the budget of {:.0e} (hours of simulation): shorten the duration or lower the rates, or give --force",
            w.name,
            e.arrivals,
            w.duration.unwrap_or_default(),
            WORK_BUDGET
        );
    }
    if let Some(free) = available_memory() {
        if e.bytes > free {
            bail!(
                "workload `{}` is estimated to need {:.1} GiB for its keys, more than the {:.1} GiB this machine has free: lower the key counts or the duration, or give --force",
                w.name,
                e.bytes / (1u64 << 30) as f64,
                free / (1u64 << 30) as f64
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_and_sample_intervals_are_bounded() {
        assert!(check_jobs(0).is_err());
        assert!(check_jobs(99_999_999_999).is_err());
        assert_eq!(check_jobs(4).unwrap(), 4);
        assert!(sample_interval("0s").is_err());
        assert!(sample_interval("1000d").is_err());
        assert_eq!(sample_interval("10s").unwrap(), Dur(10_000_000));
    }

    #[test]
    fn estimate_counts_rates_times_duration() {
        // 2000 reads/s for 10 min over 200,000 keys.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/cache_aside.toml");
        let mut w = crate::workload::load_workload(std::path::Path::new(path)).unwrap();
        let e = estimate(&w);
        assert_eq!(e.arrivals, 2000.0 * 600.0);
        assert_eq!(e.bytes, 200_000.0 * BYTES_PER_KEY);
        w.duration = Some(Dur(1000 * 86_400 * 1_000_000));
        assert!(check_budget(&w, false).is_err());
        assert!(check_budget(&w, true).is_ok());
    }

    #[test]
    fn the_memory_guard_checks_every_65536_records() {
        let mut g = MemoryGuard::new(MemoryLimit::Bytes(1));
        for _ in 1..MemoryGuard::EVERY {
            g.tick(|| unreachable!("no check before the 65536th record"))
                .unwrap();
        }
        let e = g
            .tick(|| "t.csv: after 65536 records".into())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.csv: after 65536 records: the replay's memory has grown to "),
            "{e}"
        );
        assert!(e.ends_with("or give --force"), "{e}");
        for limit in [MemoryLimit::Unlimited, MemoryLimit::Machine] {
            let mut g = MemoryGuard::new(limit);
            for _ in 0..3 * MemoryGuard::EVERY {
                g.tick(String::new).unwrap();
            }
        }
    }
}
