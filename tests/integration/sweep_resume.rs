//! A sweep killed mid-way and resumed with `--resume` writes the same CSV as
//! one that ran uninterrupted (the real binary, killed with SIGKILL).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ttlsim");

fn sweep_args(out: &Path) -> Vec<String> {
    [
        "sweep",
        "--synthetic",
        "--synthetic-delay-ms",
        "25",
        "--maxmemory-policy",
        "allkeys-lru,volatile-ttl",
        "--maxmemory",
        "25%,50%",
        "--seed",
        "1..15",
        "--jobs",
        "2",
        "--no-report",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

fn done_parts(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("parts"))
        .map(|rd| {
            rd.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".runs.csv"))
            })
            .count()
        })
        .unwrap_or(0)
}

/// Waits until `n` runs of the sweep writing `dir` are finished.
fn wait_for_parts(dir: &Path, n: usize) {
    let t0 = Instant::now();
    while done_parts(dir) < n {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "sweep made no progress"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn resume_after_kill_matches_uninterrupted_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let st = Command::new(BIN)
        .args(sweep_args(&whole))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());

    let killed = tmp.path().join("killed");
    let mut child = Command::new(BIN)
        .args(sweep_args(&killed))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_parts(&killed, 10);
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = done_parts(&killed);
    assert!(kept < 60, "killed after it finished ({kept} runs)");
    assert!(
        !killed.join("runs.csv").exists(),
        "a killed sweep leaves no runs.csv"
    );
    // Every finished part is complete: a header and one row.
    for e in std::fs::read_dir(killed.join("parts")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".runs.csv") {
            assert_eq!(std::fs::read_to_string(&p).unwrap().lines().count(), 2);
        }
    }

    let mut args = sweep_args(&killed);
    args.push("--resume".into());
    let out = Command::new(BIN).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("already done"), "{stdout}");
    for f in ["runs.csv", "timeseries.csv", "expiry_lag.csv", "grid.csv"] {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(killed.join(f)).unwrap(),
            "{f} differs after resume"
        );
    }
    assert!(!killed.join("parts").exists());
}

/// Ctrl-C (SIGINT) mid-sweep says how to go on and exits 130; the same
/// command with `--resume` then finishes what was left.
#[cfg(unix)]
#[test]
fn ctrl_c_says_how_to_resume_and_resume_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("interrupted");
    let child = Command::new(BIN)
        .args(sweep_args(&out_dir))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_parts(&out_dir, 5);
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: the finished runs are saved; the same command with --resume continues from them"),
        "{stderr}"
    );
    assert!(!out_dir.join("runs.csv").exists());

    let mut args = sweep_args(&out_dir);
    args.push("--resume".into());
    let out = Command::new(BIN).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("already done"));
    let rows = std::fs::read_to_string(out_dir.join("runs.csv")).unwrap();
    assert_eq!(rows.lines().count(), 1 + 60, "every run once");
}
