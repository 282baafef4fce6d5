//! `maxmemory-policy belady` on a trace: the replay reads the trace ahead to
//! learn each key's next use, and the optimum bounds Redis's policies and the
//! exact references on the same requests.

use std::process::Command;

fn ttlsim(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ttlsim"))
        .args(args)
        .output()
        .expect("run ttlsim");
    assert!(
        out.status.success(),
        "ttlsim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn hit_ratio(dir: &std::path::Path) -> f64 {
    let mut r = csv::Reader::from_path(dir.join("runs.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    let col = headers.iter().position(|h| h == "hit_ratio").unwrap();
    let row = r.records().next().unwrap().unwrap();
    row[col].parse().unwrap()
}

#[test]
fn belady_bounds_the_other_policies_on_a_recorded_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("trace.csv");
    let workload = concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/cache_aside.toml");
    ttlsim(&[
        "record",
        workload,
        "--duration",
        "3m",
        "--out",
        trace.to_str().unwrap(),
    ]);
    let mut results = Vec::new();
    for policy in [
        "belady",
        "exact-lru",
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
    ] {
        let out = tmp.path().join(policy);
        ttlsim(&[
            "run",
            "--trace",
            trace.to_str().unwrap(),
            "--maxmemory",
            "8mb",
            "--maxmemory-policy",
            policy,
            "--warmup",
            "0",
            "--out",
            out.to_str().unwrap(),
        ]);
        results.push((policy, hit_ratio(&out)));
    }
    println!("{results:?}");
    let belady = results[0].1;
    for &(p, r) in &results[1..] {
        assert!(belady > r, "belady {belady} not above {p} {r}");
    }
}
