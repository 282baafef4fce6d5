//! `ttlsim sweep` on the real engine (a short cut of workloads/mixed.toml):
//! byte-identical CSV with 1 and 2 threads, and shards merged equal the
//! unsharded sweep.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ttlsim");

fn sweep(out: &Path, extra: &[&str]) {
    let workload = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/mixed.toml");
    let o = Command::new(BIN)
        .arg("sweep")
        .arg(&workload)
        .args([
            "--maxmemory-policy",
            "allkeys-lru,volatile-lru",
            "--maxmemory",
            "8mb",
            "--param",
            "cache.ttl=1m,5m",
            "--seed",
            "1",
            "--duration",
            "40s",
            "--warmup",
            "10s",
            "--no-report",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn same(a: &Path, b: &Path) {
    for f in ["runs.csv", "timeseries.csv", "expiry_lag.csv", "grid.csv"] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn real_sweep_is_thread_count_independent_and_shards_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    sweep(&t.join("j1"), &["--jobs", "1"]);
    sweep(&t.join("j2"), &["--jobs", "2"]);
    same(&t.join("j1"), &t.join("j2"));
    let runs = std::fs::read_to_string(t.join("j1/runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 5);
    assert!(runs
        .lines()
        .next()
        .unwrap()
        .starts_with("run_id,workload,seed,"));

    grid_csv_is_runs_csv_parameters(&t.join("j1"));

    sweep(
        &t.join("s/shard-1-of-2"),
        &["--shard", "1/2", "--jobs", "1"],
    );
    sweep(
        &t.join("s/shard-2-of-2"),
        &["--shard", "2/2", "--jobs", "1"],
    );
    let o = Command::new(BIN)
        .args(["merge", "--no-report"])
        .arg(t.join("s/shard-2-of-2"))
        .arg(t.join("s/shard-1-of-2"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    same(&t.join("j1"), &t.join("s"));
}

/// grid.csv names what the sweep changed as runs.csv does (names, units,
/// values), so the two join on `run_id` without translation.
fn grid_csv_is_runs_csv_parameters(dir: &Path) {
    let read = |f: &str| -> Vec<Vec<String>> {
        std::fs::read_to_string(dir.join(f))
            .unwrap()
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let (grid, runs) = (read("grid.csv"), read("runs.csv"));
    // The file's own [sweep] table is replaced by the flags; duration and
    // warm-up differ from the file's, and so does the token campaigns'
    // mean rate over the shorter run.
    assert_eq!(
        grid[0].join(","),
        "run_id,duration_ms,warmup_ms,maxmemory,maxmemory_policy,\
         param_verify_campaigns_mean_per_s,param_cache_ttl_s"
    );
    assert_eq!(grid.len(), runs.len());
    for (c, name) in grid[0].iter().enumerate() {
        let r = runs[0]
            .iter()
            .position(|x| x == name)
            .unwrap_or_else(|| panic!("grid.csv column {name} is not in runs.csv"));
        for (g, row) in grid[1..].iter().zip(&runs[1..]) {
            assert_eq!(g[c], row[r], "{name} of run {}", g[0]);
        }
    }
    assert_eq!(grid[1][6], "60");
    assert_eq!(grid[2][6], "300");
}

#[test]
fn references_group_runs_every_reference_policy_once_and_notes_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let workload = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/mixed.toml");
    let o = Command::new(BIN)
        .arg("sweep")
        .arg(&workload)
        .args([
            "--maxmemory-policy",
            "allkeys-lru,References,ALLKEYS-LRU",
            "--maxmemory",
            "8mb",
            "--duration",
            "20s",
            "--warmup",
            "5s",
            "--jobs",
            "2",
            "--no-report",
            "--out",
        ])
        .arg(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("note: maxmemory-policy: allkeys-lru listed twice; running it once"),
        "{stderr}"
    );
    let grid = std::fs::read_to_string(tmp.path().join("grid.csv")).unwrap();
    let mut lines = grid.lines();
    let column = lines
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "maxmemory_policy")
        .unwrap();
    // mixed.toml's own [sweep] table varies faster than the policy.
    let mut policies: Vec<&str> = lines.map(|l| l.split(',').nth(column).unwrap()).collect();
    policies.dedup();
    assert_eq!(
        policies,
        [
            "allkeys-lru",
            "exact-lru",
            "exact-lfu",
            "fifo",
            "s3-fifo",
            "sieve",
            "arc",
            "w-tinylfu",
            "lhd",
            "lru-2"
        ]
    );
}

#[test]
fn sweep_takes_plans_objectives_for_its_report_and_refuses_unknown_names_first() {
    let tmp = tempfile::tempdir().unwrap();
    let workload = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/mixed.toml");
    let run = |require: &str, out: &Path| {
        Command::new(BIN)
            .arg("sweep")
            .arg(&workload)
            .args([
                "--maxmemory-policy",
                "allkeys-lru,volatile-lru",
                "--seed",
                "1",
                "--duration",
                "2m",
                "--warmup",
                "30s",
                "--param",
                "cache.ttl=5m",
                "--target",
                "cache.hit_ratio>=0.7",
                "--require",
                require,
                "--out",
            ])
            .arg(out)
            .output()
            .unwrap()
    };
    let typo = tmp.path().join("typo");
    let o = run("sesion.logged_out_early==0", &typo);
    assert!(!o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: `sesion.logged_out_early==0`: no namespace `sesion`; the workload has: session, verify, rl, cache, user\n"
    );
    assert!(!typo.exists(), "refused before any run");
    let out = tmp.path().join("ok");
    let o = run("session.logged_out_early==0", &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        page.contains("cache.hit_ratio&gt;=0.7, session.logged_out_early==0"),
        "the verdicts are judged by the sweep's objectives"
    );
}
