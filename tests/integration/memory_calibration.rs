//! `used_memory` of the model against a real redis-server 7.0.15 (jemalloc
//! 5.3.0): keys `key:%08d` × {10k, 100k, 1M}, values of 10, 44, 45, 100 and
//! 1000 bytes and integers (shared and not), with and without a TTL, measured
//! by scripts/calibrate_memory.py into tests/data/memory_calibration.csv.
//! Every row's memory delta must match within 1%.

use crate::common::repo_path;
use ttlsim::store::{Config, Key, SetCond, SetTtl, SimValue, Store};

const T0_US: u64 = 1_700_000_000_000_000;

fn model_delta(keys: u64, kind: &str, len: u32, ttl: bool) -> u64 {
    let mut store: Store<SimValue> = Store::new(Config::default(), 1, T0_US);
    let before = store.used_memory();
    let expire = SetTtl::At((T0_US / 1000) as i64 + 100_000_000);
    for i in 0..keys {
        let value = match kind {
            "string" => SimValue::Blob(len),
            "shared_int" => SimValue::Int((i % 10_000) as i64),
            "int" => SimValue::Int(100_000 + i as i64),
            other => panic!("unknown value kind {other}"),
        };
        let key = Key { id: i, len: 12 };
        store.set(
            key,
            value,
            SetCond::Always,
            if ttl { expire } else { SetTtl::Clear },
            false,
        );
    }
    // Let the cron finish any incremental rehash, as time passes on a server.
    for tick in 1..=50 {
        store.cron(T0_US + tick * 100_000);
    }
    store.used_memory() - before
}

#[test]
fn used_memory_matches_real_redis_within_one_percent() {
    let text = std::fs::read_to_string(repo_path("tests/data/memory_calibration.csv")).unwrap();
    let mut worst: f64 = 0.0;
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let keys: u64 = f[0].parse().unwrap();
        let (kind, len, ttl) = (f[1], f[2].parse().unwrap(), f[3] == "1");
        let redis: u64 = f[6].parse().unwrap();
        let model = model_delta(keys, kind, len, ttl);
        let err = (model as f64 - redis as f64) / redis as f64;
        worst = worst.max(err.abs());
        assert!(
            err.abs() <= 0.01,
            "{keys} keys, {kind} {len} B, ttl {ttl}: model {model} B, redis {redis} B ({:+.3}%)",
            err * 100.0
        );
        rows += 1;
    }
    assert_eq!(rows, 42, "every calibration row checked");
    println!(
        "worst relative error over {rows} rows: {:.4}%",
        worst * 100.0
    );
}
