//! The expiry storm of issue 2: 200,000 keys with expire times uniform in
//! 1–10 s, never touched, at hz 10 / 100 and effort 1 / 10. The model's peak
//! of expired-but-resident keys and the mean extra lifetime of an expired key
//! must be within 15% of a real redis-server 7.0.15's (mean of 3 runs,
//! measured by scripts/expiry_storm_redis.py into tests/data/).

use crate::common::repo_path;
use ttlsim::fidelity::storm;
use ttlsim::store::Config;

fn offsets() -> Vec<u64> {
    let text = std::fs::read_to_string(repo_path("tests/data/storm_offsets_seed42.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

/// (peak stale, mean extra lifetime ms) of the real server, per config.
fn redis_means() -> Vec<(String, f64, f64)> {
    let text = std::fs::read_to_string(repo_path("tests/data/storm_redis_summary.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some("mean"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[2].parse().unwrap(),
                f[4].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn storm_matches_real_redis_within_15_percent() {
    let offsets = offsets();
    assert_eq!(offsets.len(), 200_000);
    let mut report = String::new();
    let mut failures = Vec::new();
    for (config, redis_peak, redis_extra) in redis_means() {
        let (hz, effort) = match config.as_str() {
            "hz10_effort1" => (10, 1),
            "hz10_effort10" => (10, 10),
            "hz100_effort1" => (100, 1),
            "hz100_effort10" => (100, 10),
            other => panic!("unknown config {other}"),
        };
        let cfg = Config {
            hz,
            active_expire_effort: effort,
            ..Config::default()
        };
        let (_, s) = storm::run(cfg, 42, &offsets, 100, 12_000);
        let peak_err = (s.peak_stale as f64 - redis_peak) / redis_peak;
        let extra_err = (s.mean_extra_lifetime_ms - redis_extra) / redis_extra;
        report.push_str(&format!(
            "{config}: peak stale model {} redis {redis_peak:.0} ({:+.1}%), mean extra lifetime model {:.1} ms redis {redis_extra:.1} ms ({:+.1}%), cap reached {}, longest cycle {} us, cycle time {} ms, keys examined {}\n",
            s.peak_stale,
            peak_err * 100.0,
            s.mean_extra_lifetime_ms,
            extra_err * 100.0,
            s.cap_reached,
            s.max_cycle_us,
            s.cycle_time_ms,
            s.keys_sampled
        ));
        if peak_err.abs() > 0.15 || extra_err.abs() > 0.15 {
            failures.push(config);
        }
    }
    println!("{report}");
    assert!(failures.is_empty(), "outside 15%: {failures:?}\n{report}");
}
