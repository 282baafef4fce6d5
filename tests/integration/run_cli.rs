//! `ttlsim run` and `ttlsim record` through the binary: outputs, byte-identical
//! reruns, and clear errors (file, line, field) that leave no files behind.

use std::path::Path;
use std::process::{Command, Output};

const WORKLOAD: &str = r#"name = "small"
duration = "2m"
warmup = "20s"
seed = 3

[server]
maxmemory = "1100kb"
maxmemory-policy = "allkeys-lru"

[[pattern]]
kind = "cache-aside"
namespace = "cache"
keys = 2000
popularity = { kind = "zipf", s = 0.9 }
value_size = { kind = "fixed", bytes = 200 }
arrival = { kind = "poisson", rate = 300.0 }
ttl = "20s"

[[pattern]]
kind = "sessions"
namespace = "session"
logins = { kind = "poisson", rate = 3.0 }
ttl = "30s"
think_time = { kind = "exponential", mean = "10s" }
requests = 3.0
logout = 0.5
value_size = { kind = "fixed", bytes = 300 }
"#;

fn ttlsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ttlsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in walk(dir) {
        out.push(e);
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p.display().to_string());
        }
    }
    v
}

#[test]
fn same_seed_gives_byte_identical_csvs() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("w.toml"), WORKLOAD).unwrap();
    for out in ["a", "b"] {
        let o = ttlsim(&["run", "w.toml", "--out", out], tmp.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.contains("hit ratio") && stdout.contains("sim ops/s"),
            "{stdout}"
        );
    }
    for f in ["runs.csv", "timeseries.csv", "expiry_lag.csv"] {
        let a = std::fs::read(tmp.path().join("a").join(f)).unwrap();
        let b = std::fs::read(tmp.path().join("b").join(f)).unwrap();
        assert!(a.len() > 100, "{f} is empty");
        assert!(a == b, "{f} differs between two runs with the same seed");
    }
    let runs = std::fs::read_to_string(tmp.path().join("a/runs.csv")).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    assert_eq!(&header[..4], &["run_id", "workload", "seed", "duration_ms"]);
    for c in [
        "param_cache_ttl_s",
        "hit_ratio",
        "misses_evicted",
        "expiry_lag_p99_ms",
        "sim_ops",
        "session_logged_out_early",
        "cache_origin_fetches_per_s",
    ] {
        assert!(header.contains(&c), "runs.csv lacks {c}");
    }
    let perf = std::fs::read_to_string(tmp.path().join("a/perf.csv")).unwrap();
    assert!(
        perf.starts_with("run_id,wall_ms,sim_ops,sim_ops_per_sec,same_run_as\n0,"),
        "{perf}"
    );
    // A different seed gives different results.
    let o = ttlsim(&["run", "w.toml", "--seed", "4", "--out", "c"], tmp.path());
    assert!(o.status.success());
    let c = std::fs::read(tmp.path().join("c/runs.csv")).unwrap();
    assert_ne!(c, runs.as_bytes());
}

#[test]
fn record_then_replay_through_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("w.toml"), WORKLOAD).unwrap();
    let o = ttlsim(&["record", "w.toml", "--out", "t.csv"], tmp.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let cmd = stdout
        .lines()
        .find_map(|l| l.strip_prefix("replay with: ttlsim "))
        .unwrap();
    let mut args: Vec<&str> = cmd.split_whitespace().collect();
    args.extend(["--out", "replayed"]);
    let o = ttlsim(&args, tmp.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = ttlsim(&["run", "w.toml", "--out", "direct"], tmp.path());
    assert!(o.status.success());
    let read = |d: &str| std::fs::read_to_string(tmp.path().join(d).join("runs.csv")).unwrap();
    let col = |csv: &str, name: &str| -> String {
        let mut l = csv.lines();
        let h: Vec<&str> = l.next().unwrap().split(',').collect();
        let v: Vec<&str> = l.next().unwrap().split(',').collect();
        v[h.iter().position(|c| *c == name).unwrap()].to_string()
    };
    let (a, b) = (read("direct"), read("replayed"));
    for c in [
        "requests",
        "hits",
        "misses_evicted",
        "evicted_keys",
        "expired_keys",
        "used_memory_mean",
        "cache_hit_ratio",
        "session_hit_ratio",
    ] {
        assert_eq!(col(&a, c), col(&b, c), "{c}");
    }
}

/// Runs a failing command; checks the message and that nothing was written.
fn fails(args: &[&str], files: &[(&str, &str)], expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    let before = files_under(tmp.path());
    let o = ttlsim(args, tmp.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "should fail: {args:?}");
    for e in expect {
        assert!(err.contains(e), "error lacks `{e}`: {err}");
    }
    assert_eq!(
        files_under(tmp.path()),
        before,
        "files were left behind: {err}"
    );
}

#[test]
fn bad_input_is_refused_clearly_and_writes_nothing() {
    let run = ["run", "w.toml", "--out", "out"];
    fails(
        &run,
        &[("w.toml", "name = \"x\"\nduration = \"1m\n")],
        &["w.toml:2:"],
    );
    fails(
        &run,
        &[("w.toml", &WORKLOAD.replace("ttl = \"20s\"", "ttl_sec = 20"))],
        &[
            "w.toml:17:1",
            "pattern[1].ttl_sec: unknown field",
            "ttl_jitter",
        ],
    );
    fails(
        &run,
        &[("w.toml", &WORKLOAD.replace("allkeys-lru", "lru"))],
        &["w.toml:8:", "maxmemory-policy", "volatile-lru"],
    );
    fails(
        &run,
        &[(
            "w.toml",
            &WORKLOAD.replace("ttl = \"20s\"", "ttl = \"-20s\""),
        )],
        &["w.toml:17:", "ttl"],
    );
    fails(
        &run,
        &[("w.toml", &WORKLOAD.replace("rate = 300.0", "rate = 0.0"))],
        &[
            "w.toml:16:",
            "pattern[1].arrival.rate: expected a number above 0",
        ],
    );
    fails(
        &["run", "w.toml", "--maxmemory-policy", "lru", "--out", "out"],
        &[("w.toml", WORKLOAD)],
        &["maxmemory-policy", "allkeys-lfu"],
    );
    let trace = "time_ms,op,key,size,ttl_ms\n0,set,a:1,10,0\n5,get,a:1,10,0\n7,fetch,a:1,10,0\n";
    fails(
        &["run", "--trace", "t.csv", "--out", "out"],
        &[("t.csv", trace)],
        &["t.csv:4: bad row", "unknown op `fetch`"],
    );
    fails(
        &["run", "--trace", "t.csv", "--out", "out"],
        &[("t.csv", "time_ms,op,key,size,ttl_ms\n0,set,a:1,-4,0\n")],
        &["t.csv:2: bad row", "size"],
    );
    fails(
        &["record", "w.toml", "--out", "t.csv"],
        &[("w.toml", &WORKLOAD.replace("keys = 2000", "keys = 0"))],
        &[
            "w.toml:13:",
            "pattern[1].keys: expected a whole number from 1",
        ],
    );
}
