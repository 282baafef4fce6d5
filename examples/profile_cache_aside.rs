//! Runs the bench's cache-aside replay for profiling (`perf record`):
//! 1M keys, Zipf 0.99, about 10% fitting, allkeys-lru or allkeys-lfu.

use std::time::Instant;
use ttlsim::fidelity::cache_aside::{zipf_requests, Replay, T0_MS};
use ttlsim::store::{Config, Policy};

fn main() {
    let policy = std::env::args()
        .nth(1)
        .map(|p| Policy::parse(&p).expect("policy"))
        .unwrap_or(Policy::AllKeysLru);
    let requests = zipf_requests(1_000_000, 0.99, 8_000_000, 7);
    let cfg = Config {
        policy,
        maxmemory: 20 * 1024 * 1024,
        ..Config::default()
    };
    let mut replay = Replay::new(cfg, 1, 100);
    let start = Instant::now();
    for (i, &k) in requests.iter().enumerate() {
        replay.request(k, T0_MS * 1000 + i as u64, 0, u64::MAX);
    }
    let secs = start.elapsed().as_secs_f64();
    let o = replay.outcome();
    println!(
        "{}: {:.2} M requests/s, hit ratio {:.3}, resident {}, evicted {}",
        policy,
        requests.len() as f64 / secs / 1e6,
        o.hit_ratio(),
        o.resident,
        o.evicted
    );
}
