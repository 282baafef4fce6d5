//! `ttlsim sweep` on the real engine (a short cut of workloads/mixed.toml):
//! byte-identical CSV with 1 and 2 threads, and shards merged equal the
//! unsharded sweep.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ttlsim");

/// `ttlsim sweep workloads/mixed.toml ARGS --no-report --out OUT`; its stdout.
fn sweep_mixed(out: &Path, args: &[&str]) -> String {
    let workload = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/mixed.toml");
    let o = Command::new(BIN)
        .arg("sweep")
        .arg(&workload)
        .args(args)
        .args(["--no-report", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// One seed, 40 s with 10 s of warm-up.
const SHORT: &[&str] = &["--seed", "1", "--duration", "40s", "--warmup", "10s"];

fn sweep(out: &Path, extra: &[&str]) {
    let mut args = vec![
        "--maxmemory-policy",
        "allkeys-lru,volatile-lru",
        "--maxmemory",
        "8mb",
        "--param",
        "cache.ttl=1m,5m",
    ];
    args.extend_from_slice(SHORT);
    args.extend_from_slice(extra);
    sweep_mixed(out, &args);
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

/// Runs that differ only in the policy (within a class that counts memory
/// alike) and never reach maxmemory are written from one simulated run:
/// byte for byte what simulating each gives, and perf.csv says which.
#[test]
fn runs_that_never_reach_maxmemory_are_written_from_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let go = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "--maxmemory-policy",
            "all",
            "--maxmemory",
            "3mb,1gb",
            "--param",
            "cache.ttl=5m",
            "--jobs",
            "2",
        ];
        args.extend_from_slice(SHORT);
        args.extend_from_slice(extra);
        sweep_mixed(&t.join(out), &args)
    };
    let said = go("reused", &[]);
    go("simulated", &["--no-reuse"]);
    same(&t.join("reused"), &t.join("simulated"));
    assert!(
        said.contains("6 of them written from another run"),
        "{said}"
    );

    // At 1gb, one run per class: noeviction and allkeys-lru simulated, the
    // other six written from them; at 3mb every run simulated.
    let runs = std::fs::read_to_string(t.join("reused/runs.csv")).unwrap();
    let perf = std::fs::read_to_string(t.join("reused/perf.csv")).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|c| *c == name).unwrap();
    let (policy, max, peak) = (
        col("maxmemory_policy"),
        col("maxmemory"),
        col("used_memory_peak"),
    );
    let rows: Vec<Vec<&str>> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let same_as: Vec<&str> = perf
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    // A run written from another simulated nothing.
    for l in perf.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f[2] == "0", !f[4].is_empty(), "{l}");
    }
    assert_eq!(
        perf.lines().next().unwrap(),
        "run_id,wall_ms,sim_ops,sim_ops_per_sec,same_run_as"
    );
    let id_of = |p: &str| {
        rows.iter()
            .find(|r| r[max] == "1073741824" && r[policy] == p)
            .unwrap()[0]
    };
    for (r, s) in rows.iter().zip(&same_as) {
        let expect = match (r[max], r[policy]) {
            ("1073741824", "noeviction" | "allkeys-lru") => "",
            ("1073741824", "allkeys-random" | "volatile-random" | "volatile-ttl") => {
                id_of("noeviction")
            }
            ("1073741824", _) => id_of("allkeys-lru"),
            _ => "",
        };
        assert_eq!(*s, expect, "run {} ({} at {})", r[0], r[policy], r[max]);
    }
    // The classes differ: LRU and LFU policies give each small integer its
    // own object, so the rate-limit counters take more memory.
    let peak_of = |p: &str| {
        rows.iter()
            .find(|r| r[max] == "1073741824" && r[policy] == p)
            .unwrap()[peak]
            .parse::<u64>()
            .unwrap()
    };
    assert!(peak_of("allkeys-lru") > peak_of("noeviction"));
}
