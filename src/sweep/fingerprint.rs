//! What a sweep folder holds, and who is writing it.
//!
//! `<out>/fingerprint.txt` records everything that determines the folder's
//! runs: the ttlsim version, a hash of the workload text, the trace's
//! identity (its size and a hash of its first and last MiB), the grid, the
//! flags that change results and the shard. `--resume` and `merge` refuse a
//! folder whose fingerprint differs and say which line does; `sweep --out`
//! refuses a non-empty folder without one (it is not ttlsim's, and ttlsim
//! removes only files it made).
//!
//! `<out>/.ttlsim.lock` is held with `flock` while a sweep or merge writes
//! the folder; a second writer is refused, naming the first one's pid.

use anyhow::{bail, Context, Result};
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::units::fnv1a;

/// The fingerprint's file name inside a sweep folder.
pub const FILE: &str = "fingerprint.txt";
/// The lock file's name inside a sweep folder.
pub const LOCK: &str = ".ttlsim.lock";
const MAGIC: &str = "ttlsim sweep fingerprint v1";

/// A trace's identity without reading it whole: its size and a hash of its
/// first and last MiB.
pub fn trace_identity(path: &Path) -> Result<String> {
    const MIB: u64 = 1 << 20;
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = f
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    let mut buf = Vec::with_capacity(MIB as usize);
    (&mut f)
        .take(MIB)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let head = fnv1a(&buf);
    buf.clear();
    if size > MIB {
        f.seek(SeekFrom::Start(size - MIB))
            .with_context(|| format!("cannot read {}", path.display()))?;
        (&mut f)
            .take(MIB)
            .read_to_end(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    let tail = fnv1a(&buf);
    Ok(format!("size={size} head={head:016x} tail={tail:016x}"))
}

/// The fields of a fingerprint, in file order: `(name, value)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint {
    /// `name: value` lines.
    pub fields: Vec<(String, String)>,
}

impl Fingerprint {
    /// A sweep's fingerprint. `workload` is the workload file's text (`None`
    /// for a trace or synthetic sweep), `trace` the trace's identity,
    /// `flags` the result-changing flags as `name=value`, `grid_csv` the
    /// grid's CSV and `shard` `K/N` or `none`.
    pub fn new(
        workload: Option<&str>,
        trace: Option<String>,
        flags: &str,
        grid_csv: &str,
        shard: &str,
    ) -> Fingerprint {
        let fields = [
            ("version", env!("CARGO_PKG_VERSION").to_string()),
            (
                "workload",
                workload.map_or("none".into(), |w| format!("{:016x}", fnv1a(w.as_bytes()))),
            ),
            ("trace", trace.unwrap_or_else(|| "none".into())),
            ("flags", flags.to_string()),
            ("grid", format!("{:016x}", fnv1a(grid_csv.as_bytes()))),
            ("shard", shard.to_string()),
        ];
        Fingerprint {
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut s = format!("{MAGIC}\n");
        for (k, v) in &self.fields {
            s.push_str(&format!("{k}: {v}\n"));
        }
        s
    }

    /// Reads `<dir>/fingerprint.txt`; `Ok(None)` if there is none.
    pub fn read(dir: &Path) -> Result<Option<Fingerprint>> {
        let path = dir.join(FILE);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            bail!(
                "{}:1: not a ttlsim fingerprint (expected `{MAGIC}`)",
                path.display()
            );
        }
        let mut fields = Vec::new();
        for (n, line) in lines.enumerate() {
            let (k, v) = line
                .split_once(": ")
                .with_context(|| format!("{}:{}: expected `name: value`", path.display(), n + 2))?;
            fields.push((k.to_string(), v.to_string()));
        }
        Ok(Some(Fingerprint { fields }))
    }

    /// Writes `<dir>/fingerprint.txt` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        crate::units::atomic_write_bytes(&dir.join(FILE), self.to_text().as_bytes())
    }

    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("(missing)", |(_, v)| v.as_str())
    }

    /// The fields that differ from `other`, ignoring those in `skip`, as
    /// `name (<mine>: X, <theirs>: Y)`; empty when they match.
    pub fn differences(
        &self,
        other: &Fingerprint,
        skip: &[&str],
        (mine, theirs): (&str, &str),
    ) -> Vec<String> {
        let mut names: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        for (k, _) in &other.fields {
            if !names.contains(&k.as_str()) {
                names.push(k);
            }
        }
        names
            .into_iter()
            .filter(|k| !skip.contains(k))
            .filter(|k| self.get(k) != other.get(k))
            .map(|k| format!("{k} ({mine}: {}, {theirs}: {})", self.get(k), other.get(k)))
            .collect()
    }
}

/// True if `dir` is missing, empty, or holds a ttlsim fingerprint (or the
/// `grid.csv` every sweep writes, for folders of ttlsim versions before
/// fingerprints). A folder
/// holding only what a sweep writes before its fingerprint (a lock file,
/// `parts/`, temporary files) or only `shard-K-of-N` folders (which `merge`
/// joins into it) also counts as ttlsim's.
pub fn is_ours_or_empty(dir: &Path) -> Result<bool> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    if dir.join(FILE).is_file() || dir.join("grid.csv").is_file() {
        return Ok(true);
    }
    for e in rd {
        let name = e?.file_name();
        let name = name.to_string_lossy();
        let ours = name == LOCK
            || name == "parts"
            || name == super::exec::RETIRED_PARTS
            || name.starts_with(crate::units::TMP_PREFIX)
            || (name.starts_with("shard-") && dir.join(&*name).join(FILE).is_file());
        if !ours {
            return Ok(false);
        }
    }
    Ok(true)
}

/// An exclusive lock on an output folder, released when dropped (or when
/// the process dies, so a killed sweep never leaves a stale lock).
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
    path: PathBuf,
}

impl FolderLock {
    /// Takes the lock on `dir` (created if needed) or says who holds it.
    pub fn take(dir: &Path) -> Result<FolderLock> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(LOCK);
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        if !try_flock(&file) {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            bail!(
                "{} is in use by another ttlsim (pid {}): wait for it to finish, or choose another --out",
                dir.display(),
                if pid.is_empty() { "unknown" } else { pid }
            );
        }
        file.set_len(0)
            .and_then(|()| file.write_all(std::process::id().to_string().as_bytes()))
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(FolderLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn try_flock(f: &File) -> bool {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor this process owns and keeps open.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn try_flock(_: &File) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_with_the_pid() {
        let tmp = tempfile::tempdir().unwrap();
        let first = FolderLock::take(tmp.path()).unwrap();
        let err = FolderLock::take(tmp.path()).unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        FolderLock::take(tmp.path()).unwrap();
    }

    #[test]
    fn differences_name_the_field() {
        let a = Fingerprint::new(Some("keys = 1"), None, "x", "g", "none");
        let b = Fingerprint::new(Some("keys = 2"), None, "x", "g", "none");
        let d = a.differences(&b, &[], ("a", "b"));
        assert_eq!(d.len(), 1);
        assert!(d[0].starts_with("workload ("), "{d:?}");
        assert!(a.differences(&a.clone(), &[], ("a", "b")).is_empty());
        let tmp = tempfile::tempdir().unwrap();
        a.write(tmp.path()).unwrap();
        assert_eq!(Fingerprint::read(tmp.path()).unwrap(), Some(a));
    }
}
