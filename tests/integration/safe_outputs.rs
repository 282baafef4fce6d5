//! Faults while writing: sweeps killed with SIGKILL at random points and
//! resumed, `run`/`record` killed mid-way, two sweeps into one folder, a
//! workload edited under `--resume`, and a full disk (a small tmpfs, when
//! this process may mount one). Outputs are either complete and identical
//! to an uninterrupted run's, or refused; never mixed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ttlsim"))
}

fn ttlsim(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn spawn(args: &[&str]) -> Child {
    bin()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn kill9(c: &mut Child) {
    // SIGKILL, as `kill -9`: no destructor or handler runs.
    let _ = c.kill();
    let _ = c.wait();
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The deterministic outputs of a sweep (perf.csv holds wall times).
const SAME: [&str; 4] = ["runs.csv", "timeseries.csv", "expiry_lag.csv", "grid.csv"];

fn sweep_args(out: &Path) -> Vec<String> {
    [
        "sweep",
        "--synthetic",
        "--synthetic-delay-ms",
        "40",
        "--seed",
        "1..16",
        "--maxmemory",
        "1mb,2mb",
        "--jobs",
        "2",
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

fn as_str(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A small xorshift, so the kill points are random but repeatable.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A sweep killed while removing its finished parts leaves them renamed to
/// `parts.retired/`, never a `parts/` missing files of runs it lists as done
/// (which a --resume read as finished runs and then failed on, "cannot read
/// parts/0000002.ts.csv"): the outputs are complete, and the next sweep in
/// the folder removes the leftover.
#[test]
fn a_finished_sweeps_retired_parts_are_removed_and_it_stays_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("done");
    let mut args = sweep_args(&out);
    assert!(ttlsim(&as_str(&args)).status.success());
    assert!(!out.join("parts").exists() && !out.join("parts.retired").exists());
    let before: Vec<Vec<u8>> = SAME.iter().map(|f| read(&out.join(f))).collect();
    // What a kill during the removal leaves.
    std::fs::create_dir(out.join("parts.retired")).unwrap();
    std::fs::write(out.join("parts.retired/0000000.runs.csv"), "x\n").unwrap();
    args.push("--resume".into());
    let o = ttlsim(&as_str(&args));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("already complete"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(!out.join("parts.retired").exists());
    for (f, b) in SAME.iter().zip(&before) {
        assert!(read(&out.join(f)) == *b, "{f} changed");
    }
}

#[test]
fn sweeps_killed_at_random_points_resume_to_identical_csvs() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    assert!(ttlsim(&as_str(&sweep_args(&whole))).status.success());
    for seed in [1u64, 7, 42] {
        let out = tmp.path().join(format!("killed-{seed}"));
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        // Two kills at random points, then a resume to the end.
        let mut args = sweep_args(&out);
        for _ in 0..2 {
            let mut c = spawn(&as_str(&args));
            std::thread::sleep(Duration::from_millis(20 + next(&mut state) % 500));
            kill9(&mut c);
            if !args.contains(&"--resume".to_string()) {
                args.push("--resume".into());
            }
        }
        let o = ttlsim(&as_str(&args));
        assert!(
            o.status.success(),
            "seed {seed}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        for f in SAME {
            assert!(
                read(&whole.join(f)) == read(&out.join(f)),
                "seed {seed}: {f} differs after kill -9 and --resume"
            );
        }
        assert!(!out.join("parts").exists());
    }
}

#[test]
fn a_second_sweep_into_the_same_folder_is_refused_and_the_first_is_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    assert!(ttlsim(&as_str(&sweep_args(&whole))).status.success());
    let out = tmp.path().join("out");
    let mut first = spawn(&as_str(&sweep_args(&out)));
    // Wait until the first holds the lock (its fingerprint is written).
    for _ in 0..500 {
        if out.join("fingerprint.txt").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut second = sweep_args(&out);
    second[5] = "3..4".into();
    let o = ttlsim(&as_str(&second));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("is in use by another ttlsim (pid {})", first.id())),
        "{err}"
    );
    assert!(first.wait().unwrap().success());
    for f in SAME {
        assert!(read(&whole.join(f)) == read(&out.join(f)), "{f} was mixed");
    }
}

fn workload(dir: &Path, keys: u32) -> PathBuf {
    let p = dir.join("w.toml");
    std::fs::write(
        &p,
        format!(
            r#"name = "w"
duration = "2m"
seed = 1
[server]
maxmemory = "1mb"
maxmemory-policy = "allkeys-lru"
[[pattern]]
kind = "cache-aside"
namespace = "cache"
keys = {keys}
popularity = {{ kind = "zipf", s = 0.99 }}
value_size = {{ kind = "fixed", bytes = 100 }}
arrival = {{ kind = "poisson", rate = 20000.0 }}
ttl = "1m"
"#
        ),
    )
    .unwrap();
    p
}

#[test]
fn an_edited_workload_under_resume_is_refused_after_a_kill() {
    let tmp = tempfile::tempdir().unwrap();
    let w = workload(tmp.path(), 1000);
    let out = tmp.path().join("out");
    let args = |resume: bool| {
        let mut a = vec![
            "sweep".to_string(),
            w.to_str().unwrap().into(),
            "--seed".into(),
            "1..6".into(),
            "--jobs".into(),
            "1".into(),
            "--no-report".into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ];
        if resume {
            a.push("--resume".into());
        }
        a
    };
    let mut c = spawn(&as_str(&args(false)));
    std::thread::sleep(Duration::from_millis(600));
    kill9(&mut c);
    workload(tmp.path(), 2000);
    let o = ttlsim(&as_str(&args(true)));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("was made by a different sweep; differs: workload"),
        "{err}"
    );
    assert!(!out.join("runs.csv").exists(), "no mixed runs.csv");
}

/// Output files in `dir` other than hidden temporaries.
fn visible(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<String> = rd
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

#[test]
fn run_and_record_killed_leave_no_partial_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let w = workload(tmp.path(), 50_000);
    let all = ["expiry_lag.csv", "perf.csv", "runs.csv", "timeseries.csv"];
    for (i, ms) in [50u64, 250, 700].into_iter().enumerate() {
        let out = tmp.path().join(format!("run-{i}"));
        let mut c = spawn(&["run", w.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        std::thread::sleep(Duration::from_millis(ms));
        kill9(&mut c);
        let files = visible(&out);
        assert!(
            files.is_empty() || files == all,
            "killed at {ms} ms: a partial group {files:?}"
        );
        let trace = tmp.path().join(format!("t-{i}.csv"));
        let mut c = spawn(&[
            "record",
            w.to_str().unwrap(),
            "--out",
            trace.to_str().unwrap(),
        ]);
        std::thread::sleep(Duration::from_millis(ms));
        kill9(&mut c);
        if trace.exists() {
            // Only a complete trace may appear: it replays to the end.
            let o = ttlsim(&["trace", "stats", trace.to_str().unwrap()]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    }
    // The killed writers left hidden temporary files; the next run and
    // record beside them remove them (their writers are dead).
    let left = temporaries(tmp.path()).len()
        + (0..3)
            .map(|i| temporaries(&tmp.path().join(format!("run-{i}"))).len())
            .sum::<usize>();
    assert!(left > 0, "a kill mid-write leaves a temporary file");
    // A short `run` or `record` (the kind given) writing to `out`.
    let short = |kind: &str, out: &Path| {
        let o = ttlsim(&[
            kind,
            w.to_str().unwrap(),
            "--duration",
            "2s",
            "--warmup",
            "0",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    for i in 0..3 {
        let out = tmp.path().join(format!("run-{i}"));
        short("run", &out);
        assert_eq!(temporaries(&out), Vec::<String>::new());
    }
    short("record", &tmp.path().join("t-0.csv"));
    assert_eq!(temporaries(tmp.path()), Vec::<String>::new());
}

/// ttlsim's hidden temporary files in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(ttlsim::units::TMP_PREFIX))
        .collect()
}

/// A tmpfs of `size` at a new folder, unmounted when dropped; `None` when
/// this process may not mount (not root, or in a container without the
/// capability).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap().keep();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(dir))
    }

    fn resize(&self, size: &str) {
        let s = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(s.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn a_full_disk_names_the_file_leaves_no_partial_group_and_resumes_identically() {
    let Some(fs) = Tmpfs::mount("64k") else {
        eprintln!("skipping: cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let w = workload(tmp.path(), 1000);
    // run: the four CSVs do not fit; none of them appears.
    let out = fs.0.join("run");
    let o = ttlsim(&[
        "run",
        w.to_str().unwrap(),
        "--sample-interval",
        "100ms",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot write") && err.contains(out.to_str().unwrap()),
        "{err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert!(visible(&out).is_empty(), "{:?}", visible(&out));
    // sweep: fails on the full disk, resumes identically once there is room.
    let whole = tmp.path().join("whole");
    assert!(ttlsim(&as_str(&sweep_args(&whole))).status.success());
    let out = fs.0.join("sweep");
    let mut args = sweep_args(&out);
    let i = args.iter().position(|a| a == "40").unwrap();
    args[i] = "0".into();
    let o = ttlsim(&as_str(&args));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("No space left on device"), "{err}");
    fs.resize("64m");
    args.push("--resume".into());
    let o = ttlsim(&as_str(&args));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in SAME {
        assert!(read(&whole.join(f)) == read(&out.join(f)), "{f} differs");
    }
}
