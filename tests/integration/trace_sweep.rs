//! `ttlsim sweep --trace` over libCacheSim's cloudPhysicsIO trace, as a user
//! runs it: under the objects memory model the reference policies give the
//! miss counts libCacheSim's `test/test_evictionAlgo.c` asserts (commit
//! aa0fc40), exactly for LRU, FIFO and Belady and within 1% for the others,
//! and the sweep's CSVs are byte-identical whatever the number of jobs.

use std::collections::BTreeMap;
use std::process::Command;

const TRACE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/cloudPhysicsIO.oracleGeneral.bin"
);

/// libCacheSim's expected misses at 128 MiB .. 1 GiB in 128 MiB steps.
const EXPECTED: &[(&str, [u64; 8], f64)] = &[
    (
        "exact-lru",
        [93374, 89783, 83572, 81722, 72494, 72104, 71972, 71704],
        0.0,
    ),
    (
        "fifo",
        [93403, 89386, 84387, 84025, 72498, 72228, 72182, 72140],
        0.0,
    ),
    (
        "belady",
        [79256, 70724, 65481, 61594, 59645, 57599, 50873, 48974],
        0.0,
    ),
    (
        "s3-fifo",
        [89307, 82387, 77041, 76791, 71300, 70343, 70455, 70355],
        0.01,
    ),
    (
        "sieve",
        [91699, 86720, 78578, 76707, 69945, 66221, 64445, 64376],
        0.01,
    ),
    (
        "arc",
        [90252, 85861, 78168, 74297, 67381, 65685, 64439, 64772],
        0.01,
    ),
    (
        "lhd",
        [90500, 86928, 82211, 77256, 71259, 67001, 63734, 61237],
        0.01,
    ),
];

fn sweep(out: &std::path::Path, jobs: &str) {
    let sizes: Vec<String> = (1..=8u64).map(|i| ((i * 128) << 20).to_string()).collect();
    let policies: Vec<&str> = EXPECTED.iter().map(|e| e.0).collect();
    let o = Command::new(env!("CARGO_BIN_EXE_ttlsim"))
        .args(["sweep", "--trace", TRACE, "--memory-model", "objects"])
        .args(["--maxmemory", &sizes.join(",")])
        .args(["--maxmemory-policy", &policies.join(",")])
        .args(["--jobs", jobs, "--no-report", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn reference_policies_give_libcachesims_miss_counts_on_cloudphysics() {
    let _exclusive = crate::common::exclusive();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("j1"), tmp.path().join("j2"));
    sweep(&a, "1");
    sweep(&b, "2");
    for f in ["runs.csv", "timeseries.csv", "expiry_lag.csv", "grid.csv"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between --jobs 1 and --jobs 2"
        );
    }
    let mut rdr = csv::Reader::from_path(a.join("runs.csv")).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (p, m, misses) = (col("maxmemory_policy"), col("maxmemory"), col("misses"));
    let mut got: BTreeMap<(String, u64), u64> = BTreeMap::new();
    for r in rdr.records() {
        let r = r.unwrap();
        got.insert(
            (r[p].to_string(), r[m].parse().unwrap()),
            r[misses].parse().unwrap(),
        );
    }
    for (policy, want, tol) in EXPECTED {
        for (i, &w) in want.iter().enumerate() {
            let size = ((i as u64 + 1) * 128) << 20;
            let g = got[&(policy.to_string(), size)];
            let err = (g as f64 - w as f64).abs() / w as f64;
            assert!(
                err <= *tol,
                "{policy} at {} MiB: {g} misses, libCacheSim {w}",
                size >> 20
            );
        }
    }
}
