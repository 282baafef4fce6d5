//! The bad-input corpus: `tests/bad_inputs/cases.toml` lists command lines
//! with the files and stdin each needs, and the exact message and exit
//! status a user must get. Every case runs in its own temporary folder
//! (its path shows as `{dir}` in messages), and after it the folder must
//! hold exactly the files it held before (nothing half-written is left
//! behind), unless the case says `creates = true`.
//!
//! `BLESS=1 cargo test --release --test integration bad_inputs::` rewrites
//! the expected messages from the current binary; review the diff.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, Serialize, Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What the case is about.
    name: String,
    /// Files to create first: name → text (`{repo}` is the repository).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    files: BTreeMap<String, String>,
    /// Files of `count` copies of `text` (long lines, big inputs); entries
    /// naming the same file are appended in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    repeat: Vec<Repeat>,
    /// Commands that must succeed before the case (ttlsim arguments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    setup: Vec<Vec<String>>,
    /// Symbolic links to create: name → target.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    symlinks: BTreeMap<String, String>,
    /// Files to change after the setup: name → new text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    edit: BTreeMap<String, String>,
    /// The ttlsim arguments (`{dir}`: the case's folder, `{repo}`: the repository).
    args: Vec<String>,
    /// Standard input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stdin: Option<String>,
    /// Standard input from this file of the case's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stdin_file: Option<String>,
    /// Expected exit status.
    status: i32,
    /// Expected standard error, exactly (paths as `{dir}`).
    stderr: String,
    /// Expected standard output, exactly, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stdout: Option<String>,
    /// The case may create files (an input that is made safe and runs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    creates: bool,
    /// Files that must exist in the case's folder afterwards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    exists: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    file: String,
    text: String,
    count: usize,
}

fn corpus_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs/cases.toml")
}

fn listing(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p.clone());
            }
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            // A lock file is ttlsim's own and holds a pid, not output.
            if !rel.ends_with(".ttlsim.lock") {
                out.push((rel, if m.is_file() { m.len() } else { 0 }));
            }
        }
    }
    out.sort();
    out
}

type Ran = (i32, String, String, Vec<(String, u64)>, Vec<(String, u64)>);

fn run(case: &Case) -> Ran {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    let repo = env!("CARGO_MANIFEST_DIR");
    let subst = |s: &str| {
        s.replace("{dir}", dir.to_str().unwrap())
            .replace("{repo}", repo)
    };
    let write = |name: &str, text: &[u8]| {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    for (name, text) in &case.files {
        write(name, subst(text).as_bytes());
    }
    let mut repeated: BTreeMap<&str, String> = BTreeMap::new();
    for r in &case.repeat {
        repeated
            .entry(&r.file)
            .or_default()
            .push_str(&subst(&r.text).repeat(r.count));
    }
    for (name, text) in repeated {
        write(name, text.as_bytes());
    }
    for (name, target) in &case.symlinks {
        std::os::unix::fs::symlink(subst(target), dir.join(name)).unwrap();
    }
    let bin = env!("CARGO_BIN_EXE_ttlsim");
    for s in &case.setup {
        let o = Command::new(bin)
            .args(s.iter().map(|a| subst(a)))
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}: setup {s:?} failed: {}",
            case.name,
            String::from_utf8_lossy(&o.stderr)
        );
    }
    for (name, text) in &case.edit {
        write(name, subst(text).as_bytes());
    }
    let before = listing(&dir);
    let mut child = Command::new(bin)
        .args(case.args.iter().map(|a| subst(a)))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = match (&case.stdin, &case.stdin_file) {
        (Some(s), _) => Some(subst(s).into_bytes()),
        (None, Some(f)) => Some(std::fs::read(dir.join(f)).unwrap()),
        (None, None) => None,
    };
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        if let Some(b) = input {
            let _ = stdin.write_all(&b);
        }
    });
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = r.read_to_end(&mut b);
            b
        })
    };
    let out_reader = read(Box::new(child.stdout.take().unwrap()));
    let err_reader = read(Box::new(child.stderr.take().unwrap()));
    // Nothing hangs: a case that runs a minute is killed and fails.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code().unwrap_or(-1);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break -999;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    feeder.join().unwrap();
    let (stdout, stderr) = (out_reader.join().unwrap(), err_reader.join().unwrap());
    let after = listing(&dir);
    let unsubst = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .replace(dir.to_str().unwrap(), "{dir}")
            .replace(repo, "{repo}")
    };
    (status, unsubst(&stdout), unsubst(&stderr), before, after)
}

#[test]
fn every_bad_input_gets_its_exact_message_and_leaves_nothing_behind() {
    let text = std::fs::read_to_string(corpus_path()).unwrap();
    let mut corpus: Corpus = toml::from_str(&text).unwrap();
    assert!(corpus.case.len() >= 120, "{} cases", corpus.case.len());
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    for case in &mut corpus.case {
        let (status, stdout, stderr, before, after) = run(case);
        if bless {
            case.status = status;
            case.stderr = stderr.clone();
            if case.stdout.is_some() {
                case.stdout = Some(stdout.clone());
            }
        }
        let mut why = Vec::new();
        if status != case.status {
            why.push(format!("status {status}, expected {}", case.status));
        }
        if stderr != case.stderr {
            why.push(format!(
                "stderr\n  got:  {stderr:?}\n  want: {:?}",
                case.stderr
            ));
        }
        if let Some(want) = &case.stdout {
            if &stdout != want {
                why.push(format!("stdout\n  got:  {stdout:?}\n  want: {want:?}"));
            }
        }
        for f in &case.exists {
            if !after.iter().any(|(name, _)| name == f) {
                why.push(format!("{f} was not written: {after:?}"));
            }
        }
        if !case.creates && before != after {
            why.push(format!(
                "files changed:\n  before {before:?}\n  after  {after:?}"
            ));
        }
        if stderr.contains("panicked") {
            why.push("panicked".into());
        }
        if !why.is_empty() {
            failures.push(format!("case `{}`: {}", case.name, why.join("; ")));
        }
    }
    if bless {
        std::fs::write(corpus_path(), toml::to_string_pretty(&corpus).unwrap()).unwrap();
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        corpus.case.len(),
        failures.join("\n")
    );
}
