//! The bottom layer: simulated time units, number formatting and atomic file
//! writes, shared by every module above (store, workload, sim, metrics,
//! sweep, report) so none of them imports another for these.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// Simulated time in microseconds (since the Unix epoch, or a span).
pub type Micros = u64;

/// 64-bit FNV-1a (offset basis `0xcbf29ce484222325`, prime
/// `0x100000001b3`): a stable hash, the same on every platform and Rust
/// version, for telling inputs apart (names, files, MONITOR clients), not
/// for security.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Formats a float with a fixed, platform-independent format: integers print
/// without a fraction, other values with up to 6 decimals (trailing zeros
/// trimmed). Used for every float ttlsim writes.
pub fn fmt_f64(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// A span of simulated time, written as a string with a unit: `"500ms"`,
/// `"30s"`, `"10m"`, `"1h"`, `"2d"` (also `"us"`; decimals such as `"1.5s"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub Micros);

impl Dur {
    /// Microseconds.
    pub fn us(self) -> Micros {
        self.0
    }
    /// Whole milliseconds (rounded down).
    pub fn ms(self) -> u64 {
        self.0 / 1000
    }
    /// Seconds as a float.
    pub fn secs(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// Parses `"30s"` and friends.
    pub fn parse(s: &str) -> Result<Dur, String> {
        let t = s.trim();
        if t.starts_with('-') {
            return Err(format!("duration `{s}` is negative: it must be >= 0"));
        }
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| {
                format!("duration `{s}` has no unit (use ms, s, m, h or d, as in \"30s\")")
            })?;
        let (num, unit) = t.split_at(split);
        let n: f64 = num.parse().map_err(|_| {
            format!("`{s}` is not a duration (expected e.g. \"500ms\", \"30s\", \"10m\", \"1h\")")
        })?;
        let mul = match unit.trim() {
            "us" => 1.0,
            "ms" => 1e3,
            "s" => 1e6,
            "m" | "min" => 60e6,
            "h" => 3600e6,
            "d" => 86400e6,
            u => {
                return Err(format!(
                    "unknown unit `{u}` in duration `{s}` (use us, ms, s, m, h or d)"
                ))
            }
        };
        Ok(Dur((n * mul).round() as Micros))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if !us.is_multiple_of(1000) {
            write!(f, "{us}us")
        } else if !us.is_multiple_of(1_000_000) {
            write!(f, "{}ms", us / 1000)
        } else if us.is_multiple_of(3_600_000_000) && us > 0 {
            write!(f, "{}h", us / 3_600_000_000)
        } else if us.is_multiple_of(60_000_000) && us > 0 {
            write!(f, "{}m", us / 60_000_000)
        } else {
            write!(f, "{}s", us / 1_000_000)
        }
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string such as \"30s\", \"10m\", \"500ms\", \"1h\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Dur, E> {
                Dur::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Dur, E> {
                Err(E::custom(format!(
                    "a duration needs a unit: write \"{v}s\" or \"{v}ms\", not {v}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// A CSV writer with ttlsim's conventions: fields quoted only where they
/// need it (a comma, a quote, `\r` or `\n`), `\n` line ends. Every CSV
/// ttlsim writes goes through one of these.
pub fn csv_writer<W: Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .flexible(true)
        .from_writer(w)
}

/// One CSV record as a line (with its `\n`), quoted as [`csv_writer`] does.
pub fn csv_line<I, T>(fields: I) -> String
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut w = csv_writer(Vec::new());
    // Writing to a Vec cannot fail, and the bytes are the UTF-8 fields given.
    let _ = w.write_record(fields);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints one line on stdout. Unlike `println!` it never panics: when the
/// reader has gone (`ttlsim sweep ... | head -1`, an
/// [`std::io::ErrorKind::BrokenPipe`]), this and every later line are
/// dropped and the work goes on, so the output files are still written
/// complete; other write errors are returned. Use it through
/// [`say!`](crate::say).
pub fn say(args: fmt::Arguments) -> std::io::Result<()> {
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        r => r,
    }
}

/// `println!` that returns the error (see [`units::say`](crate::units::say)):
/// `say!("wrote {}", path.display())?`.
#[macro_export]
macro_rules! say {
    () => {
        $crate::units::say(format_args!(""))
    };
    ($($t:tt)*) => {
        $crate::units::say(format_args!($($t)*))
    };
}

/// True when `e` was caused by writing to a closed pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prefix of the temporary files [`atomic_write`] creates beside their
/// destination; `--resume` removes any left by an interrupted writer.
pub const TMP_PREFIX: &str = ".ttlsim-tmp";

/// A file being written that appears at its path only when complete: the
/// bytes go to a temporary file in the same directory (so the final rename is
/// atomic), and [`AtomicFile::commit`] syncs it to disk and renames it over
/// the destination. Dropped without a commit (an error, a panic), the
/// temporary file is removed and the destination is untouched.
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    path: std::path::PathBuf,
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn new(path: &Path) -> Result<Self> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut builder = tempfile::Builder::new();
        // The writer's pid in the name tells an abandoned temporary file
        // (its writer was killed) from one being written.
        let prefix = format!("{TMP_PREFIX}-{}-", std::process::id());
        builder.prefix(&prefix);
        // An output is an ordinary file: rw for all, less the user's umask
        // (tempfile's own default, 0600, is for secrets).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        Ok(AtomicFile {
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// Starts writing `path`, the single output of a command (`record`,
    /// `trace convert|generate`), after removing the temporary files killed
    /// writers left beside it ([`remove_abandoned_temporaries_beside`]).
    pub fn sole(path: &Path) -> Result<Self> {
        remove_abandoned_temporaries_beside(path);
        AtomicFile::new(path)
    }

    /// Starts writing `path` and fills it through a buffered writer; the
    /// file is not in place until [`AtomicFile::commit`].
    pub fn filled(
        path: &Path,
        fill: impl FnOnce(&mut BufWriter<&File>) -> std::io::Result<()>,
    ) -> Result<Self> {
        let f = AtomicFile::new(path)?;
        {
            let mut w = BufWriter::with_capacity(1 << 16, f.file());
            fill(&mut w)
                .and_then(|()| w.flush())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(f)
    }

    /// The temporary file, to write into.
    pub fn file(&self) -> &File {
        self.tmp.as_file()
    }

    /// An owned handle on the temporary file, for writers that must own one.
    pub fn reopen(&self) -> Result<File> {
        self.tmp
            .reopen()
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Syncs the file to disk and renames it into place.
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        self.tmp
            .as_file()
            .sync_all()
            .with_context(|| format!("cannot write {} (sync)", path.display()))?;
        self.tmp
            .persist(&path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}

/// Writes `path` atomically through [`AtomicFile`]: `fill` writes into a
/// buffered writer; the file appears only if it and the sync succeed.
pub fn atomic_write(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<&File>) -> std::io::Result<()>,
) -> Result<()> {
    AtomicFile::filled(path, fill)?.commit()
}

/// [`atomic_write`] of a byte string.
pub fn atomic_write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    atomic_write(path, |w| w.write_all(bytes))
}

/// Removes the temporary files that writers killed before they finished
/// (`kill -9`, a power cut) left beside `path`: those whose name carries the
/// pid of a process that no longer exists. A live writer's file, and a file
/// whose writer cannot be known, are left alone. Called by the commands that
/// write one output (`run`, `record`, `trace convert|generate`) before they
/// start; a sweep cleans its own folder under its lock
/// ([`remove_temporaries`]).
pub fn remove_abandoned_temporaries_beside(path: &Path) {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    remove_abandoned_temporaries(dir);
}

/// [`remove_abandoned_temporaries_beside`] for the files in `dir`. Failing
/// to remove one is not an error: it is only litter.
pub fn remove_abandoned_temporaries(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(TMP_PREFIX)
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid > 0 && !process_exists(pid) && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Whether a process with this pid exists (signal 0 checks without sending).
fn process_exists(pid: i32) -> bool {
    // SAFETY: kill with signal 0 sends nothing; it only checks the pid.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Removes the temporary files an interrupted [`atomic_write`] left in `dir`.
pub fn remove_temporaries(dir: &Path) -> Result<()> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in rd {
        let e = e?;
        if e.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
            std::fs::remove_file(e.path())
                .with_context(|| format!("cannot remove {}", e.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_files_and_cleans_up_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("runs.csv");
        atomic_write_bytes(&p, b"a\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"a\n");
        let err = atomic_write(&p, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("disk full"), "{err:#}");
        assert_eq!(std::fs::read(&p).unwrap(), b"a\n", "old file kept whole");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn csv_fields_are_quoted_only_where_needed() {
        assert_eq!(
            csv_line(["a", "", "b,c", "say \"hi\"", "x\ry"]),
            "a,,\"b,c\",\"say \"\"hi\"\"\",\"x\ry\"\n"
        );
    }

    #[test]
    fn floats_print_the_same_everywhere() {
        assert_eq!(fmt_f64(2.0), "2");
        assert_eq!(fmt_f64(0.125), "0.125");
        assert_eq!(fmt_f64(1.0 / 3.0), "0.333333");
        assert_eq!(fmt_f64(-0.0000001), "0");
        assert_eq!(fmt_f64(f64::NAN), "nan");
    }
}
