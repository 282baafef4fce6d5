//! The sweep machinery on a synthetic runner: thread count, shards and merge,
//! resume after a failure, all compared byte for byte.

use std::path::Path;
use ttlsim::sweep::exec::{self, Plan, RunOutput, Runner};
use ttlsim::sweep::grid::{Grid, Shard};
use ttlsim::sweep::synthetic::SyntheticRunner;

fn grid() -> Grid {
    let dims: Vec<(String, Vec<String>)> = [
        ("maxmemory-policy", "allkeys-lru,volatile-lru,noeviction"),
        ("maxmemory", "10mb,20mb,40mb"),
        ("cache.ttl", "60,600"),
        ("seed", "1..2"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
    .collect();
    Grid::build(None, &dims).unwrap()
}

fn plan(out: &Path, jobs: usize, shard: Option<Shard>, resume: bool) -> Plan {
    Plan {
        fingerprint: None,
        out: out.to_path_buf(),
        grid: grid(),
        grid_csv: exec::grid_csv(&grid(), &SyntheticRunner::default()).unwrap(),
        shard,
        jobs,
        resume,
        progress: false,
        reuse: true,
    }
}

const FILES: [&str; 4] = ["runs.csv", "timeseries.csv", "expiry_lag.csv", "grid.csv"];

fn same_outputs(a: &Path, b: &Path) {
    for f in FILES {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(b.join(f)).unwrap();
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn identical_with_one_and_two_threads() {
    let _exclusive = crate::common::exclusive();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("j1"), tmp.path().join("j2"));
    let r = SyntheticRunner {
        delay: std::time::Duration::from_millis(2),
    };
    let o = exec::execute(&plan(&a, 1, None, false), &r).unwrap();
    assert_eq!(o.ran, 36);
    exec::execute(&plan(&b, 2, None, false), &r).unwrap();
    same_outputs(&a, &b);
    let runs = std::fs::read_to_string(a.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 37);
    assert!(
        !a.join("parts").exists(),
        "parts are removed once assembled"
    );
}

#[test]
fn shards_merged_equal_the_unsharded_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let r = SyntheticRunner::default();
    let whole = tmp.path().join("whole");
    exec::execute(&plan(&whole, 2, None, false), &r).unwrap();
    let s1 = tmp.path().join("shard-1-of-2");
    let s2 = tmp.path().join("shard-2-of-2");
    exec::execute(&plan(&s1, 1, Some(Shard::parse("1/2").unwrap()), false), &r).unwrap();
    exec::execute(&plan(&s2, 2, Some(Shard::parse("2/2").unwrap()), false), &r).unwrap();
    let n1 = std::fs::read_to_string(s1.join("runs.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(n1, 19, "shard 1/2 holds half the runs");
    let merged = tmp.path().join("merged");
    // Shards in either order give the same result.
    assert_eq!(exec::merge(&[s2.clone(), s1.clone()], &merged).unwrap(), 36);
    same_outputs(&whole, &merged);
    // A missing shard is refused, naming what is missing.
    let e = exec::merge(&[s1], &tmp.path().join("partial"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("18 of the grid's 36 runs"), "{e}");
}

/// Fails on one run the first time, as a killed sweep would stop.
struct FailOnce {
    inner: SyntheticRunner,
    fail: u64,
    armed: std::sync::atomic::AtomicBool,
}

impl Runner for FailOnce {
    fn params(&self, p: &[(&str, &toml::Value)]) -> anyhow::Result<Vec<(String, String)>> {
        self.inner.params(p)
    }
    fn unbounded_peak(&self) -> anyhow::Result<u64> {
        self.inner.unbounded_peak()
    }
    fn run(&self, id: u64, p: &[(&str, &toml::Value)]) -> anyhow::Result<RunOutput> {
        if id == self.fail && self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            anyhow::bail!("interrupted");
        }
        self.inner.run(id, p)
    }
}

#[test]
fn resume_runs_only_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    exec::execute(&plan(&whole, 1, None, false), &SyntheticRunner::default()).unwrap();
    let r = FailOnce {
        inner: SyntheticRunner::default(),
        fail: 20,
        armed: true.into(),
    };
    let out = tmp.path().join("resumed");
    assert!(exec::execute(&plan(&out, 1, None, false), &r).is_err());
    assert!(
        !out.join("runs.csv").exists(),
        "no output before every run is done"
    );
    let o = exec::execute(&plan(&out, 2, None, true), &r).unwrap();
    assert_eq!(o.kept, 20);
    assert_eq!(o.ran, 16);
    same_outputs(&whole, &out);
    // Resuming a finished sweep does nothing; a different grid is refused,
    // its fingerprint naming the grid.
    let o = exec::execute(&plan(&out, 2, None, true), &r).unwrap();
    assert_eq!(o.ran, 0);
    let mut p = plan(&out, 1, None, true);
    p.grid.dims.pop();
    p.grid_csv = exec::grid_csv(&p.grid, &r).unwrap();
    assert!(exec::execute(&p, &r)
        .unwrap_err()
        .to_string()
        .contains("differs: grid ("));
}
