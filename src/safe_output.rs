//! Outputs that never lose the user's data: names that stay one path
//! component, output paths checked before a run starts, a group of files
//! that appear together or not at all, and single outputs that are written
//! atomically only over regular files (a FIFO or a device is written in
//! place, a symbolic link or a folder is refused).

use crate::units::AtomicFile;
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The longest name [`path_component`] keeps, in bytes.
pub const MAX_NAME_BYTES: usize = 100;

/// A user-given name (`name = "…"` in a workload, `sweep --name`) as one
/// safe path component: separators split it and `.`/`..`/empty parts are
/// dropped, the rest are joined with `_`; anything but letters, digits,
/// `-`, `_` and `.` becomes `_`; a leading `.` becomes `_` (no hidden or
/// parent folders); an empty result is `unnamed`. At most
/// [`MAX_NAME_BYTES`] bytes.
pub fn path_component(name: &str) -> String {
    let joined = name
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect::<Vec<_>>()
        .join("_");
    let mut out: String = joined
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('.') {
        out.replace_range(0..1, "_");
    }
    while out.len() > MAX_NAME_BYTES {
        out.pop();
    }
    if out.is_empty() {
        "unnamed".into()
    } else {
        out
    }
}

/// Checks, before any work, that `dir` can hold output files: it is a
/// folder (or can be created under one) and a file can be created in it.
/// Creates nothing that stays.
pub fn check_out_dir(dir: &Path) -> Result<()> {
    let mut probe = dir;
    loop {
        match std::fs::metadata(probe) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => bail!(
                "cannot write to {}: {} is not a folder",
                dir.display(),
                probe.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                probe = match probe.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
            }
            Err(e) => return Err(e).with_context(|| format!("cannot write to {}", dir.display())),
        }
    }
    tempfile::Builder::new()
        .prefix(crate::units::TMP_PREFIX)
        .tempfile_in(probe)
        .with_context(|| format!("cannot write to {}", dir.display()))?;
    Ok(())
}

/// Files written as one group: each goes to a temporary file first, and
/// [`FileGroup::commit`] puts them in place only once all are written (a
/// full disk fails while writing, before any is renamed). Dropped without a
/// commit, none appears.
#[derive(Default)]
pub struct FileGroup {
    files: Vec<AtomicFile>,
    paths: Vec<PathBuf>,
}

impl FileGroup {
    /// An empty group.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `path`'s content (to its temporary file, for now).
    pub fn add(
        &mut self,
        path: &Path,
        fill: impl FnOnce(&mut BufWriter<&File>) -> std::io::Result<()>,
    ) -> Result<()> {
        self.files.push(AtomicFile::filled(path, fill)?);
        self.paths.push(path.to_path_buf());
        Ok(())
    }

    /// Renames every file into place; if one fails, those already renamed
    /// are removed again. Returns the paths.
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        let mut done: Vec<&PathBuf> = Vec::new();
        for (f, p) in self.files.into_iter().zip(&self.paths) {
            if let Err(e) = f.commit() {
                for q in done {
                    let _ = std::fs::remove_file(q);
                }
                return Err(e);
            }
            done.push(p);
        }
        Ok(self.paths)
    }
}

/// One output file that replaces nothing it should not: a new path or a
/// regular file is written atomically ([`AtomicFile`]); a FIFO, a character
/// device or a socket is opened and written in place (so `/dev/null`,
/// `/dev/stdout` or a pipe work and `/dev/full` stays a device); a symbolic
/// link, a folder or a block device is refused.
pub enum OutFile {
    /// Written to a temporary file, renamed over the path on commit.
    Atomic(AtomicFile),
    /// Written in place.
    Stream(File, PathBuf),
}

impl OutFile {
    /// Opens `path` for writing as described above.
    pub fn create(path: &Path) -> Result<OutFile> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
                if let Some(d) = dir.filter(|d| !d.is_dir()) {
                    bail!(
                        "cannot write {}: the folder {} does not exist",
                        path.display(),
                        d.display()
                    );
                }
                return Ok(OutFile::Atomic(AtomicFile::sole(path)?));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            bail!(
                "{} is a symbolic link: give the path it points to (ttlsim does not replace links)",
                path.display()
            );
        }
        if ft.is_dir() {
            bail!("{} is a folder: give a file name", path.display());
        }
        if ft.is_file() {
            return Ok(OutFile::Atomic(AtomicFile::sole(path)?));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if ft.is_fifo() || ft.is_char_device() || ft.is_socket() {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                return Ok(OutFile::Stream(f, path.to_path_buf()));
            }
        }
        bail!(
            "{} is not a regular file, a FIFO or a character device: refusing to replace it",
            path.display()
        )
    }

    /// A handle to write into.
    pub fn writer(&self) -> Result<File> {
        match self {
            OutFile::Atomic(a) => a.reopen(),
            OutFile::Stream(f, p) => f
                .try_clone()
                .with_context(|| format!("cannot write {}", p.display())),
        }
    }

    /// Puts the file in place (atomic) or flushes it (in place).
    pub fn commit(self) -> Result<()> {
        match self {
            OutFile::Atomic(a) => a.commit(),
            OutFile::Stream(mut f, p) => f
                .flush()
                .with_context(|| format!("cannot write {}", p.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_one_safe_component() {
        assert_eq!(path_component("../../escaped"), "escaped");
        assert_eq!(path_component("/etc/passwd"), "etc_passwd");
        assert_eq!(path_component(""), "unnamed");
        assert_eq!(path_component(".."), "unnamed");
        assert_eq!(path_component(".hidden"), "_hidden");
        assert_eq!(path_component("a b\0c"), "a_b_c");
        assert_eq!(path_component("mixed-2"), "mixed-2");
        assert_eq!(path_component(&"x".repeat(500)).len(), MAX_NAME_BYTES);
    }

    #[test]
    fn a_group_appears_whole_or_not_at_all() {
        let tmp = tempfile::tempdir().unwrap();
        let mut g = FileGroup::new();
        g.add(&tmp.path().join("a.csv"), |w| w.write_all(b"a"))
            .unwrap();
        let err = g.add(&tmp.path().join("b.csv"), |_| {
            Err(std::io::Error::other("disk full"))
        });
        assert!(err.unwrap_err().to_string().contains("b.csv"));
        drop(g);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_written_in_place_and_links_refused() {
        let f = OutFile::create(Path::new("/dev/null")).unwrap();
        assert!(matches!(f, OutFile::Stream(..)));
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        let err = OutFile::create(&link).err().unwrap().to_string();
        assert!(err.contains("symbolic link"), "{err}");
    }
}
