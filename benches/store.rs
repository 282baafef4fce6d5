//! Criterion benches of the keyspace model: a SET/GET/EXPIRE mix, the
//! 200,000-key expiry storm, cache-aside replay with eviction active
//! (1M keys, Zipf 0.99, about 10% fitting), and the eviction replay from a
//! fresh store per iteration that shows what the reference-policy seam costs
//! Redis's own policies (nothing: they never reach it) and what a reference
//! policy costs through it. Throughput is reported as operations (requests)
//! per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::hint::black_box;
use std::time::{Duration, Instant};
use ttlsim::fidelity::cache_aside::{zipf_requests, Replay, KEY_LEN, T0_MS};
use ttlsim::fidelity::storm;
use ttlsim::store::{
    Config, ExpireCond, Key, MemoryModel, Policy, SetCond, SetTtl, SimValue, Store,
};

fn mix(c: &mut Criterion) {
    const KEYS: u64 = 100_000;
    const OPS: usize = 1_000_000;
    let mut rng = Pcg64Mcg::seed_from_u64(1);
    // (kind, key): 50% GET, 30% SET EX, 20% EXPIRE, uniform keys.
    let ops: Vec<(u8, u64)> = (0..OPS)
        .map(|_| (rng.gen_range(0..10u8), rng.gen_range(0..KEYS)))
        .collect();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(OPS as u64));
    group.bench_function("set_get_expire_mix_100k_keys", |b| {
        let mut store: Store<SimValue> = Store::new(Config::default(), 1, T0_MS * 1000);
        let mut now = T0_MS * 1000;
        b.iter(|| {
            for &(kind, id) in &ops {
                now += 1;
                let key = Key { id, len: 12 };
                let _ = store.begin(now, (5..8).contains(&kind));
                match kind {
                    0..=4 => {
                        black_box(store.get(key));
                    }
                    5..=7 => {
                        let at = (now / 1000) as i64 + 60_000;
                        store.set(
                            key,
                            SimValue::Blob(100),
                            SetCond::Always,
                            SetTtl::At(at),
                            false,
                        );
                    }
                    _ => {
                        let at = (now / 1000) as i64 + 30_000;
                        black_box(store.expire(key, at, ExpireCond::default()));
                    }
                }
            }
        });
    });
    group.finish();
}

fn expiry_storm(c: &mut Criterion) {
    let mut rng = Pcg64Mcg::seed_from_u64(42);
    let offsets: Vec<u64> = (0..200_000).map(|_| rng.gen_range(1000..10_000)).collect();
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    group.throughput(Throughput::Elements(offsets.len() as u64));
    group.bench_function("expiry_storm_200k_keys_hz10", |b| {
        b.iter(|| black_box(storm::run(Config::default(), 42, &offsets, 100, 12_000)));
    });
    group.finish();
}

fn cache_aside_eviction(c: &mut Criterion) {
    const KEYS: u64 = 1_000_000;
    const CHUNK: usize = 1_000_000;
    let requests = zipf_requests(KEYS, 0.99, 4 * CHUNK, 7);
    let mut group = c.benchmark_group("eviction");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(CHUNK as u64));
    for policy in [Policy::AllKeysLru, Policy::AllKeysLfu] {
        group.bench_function(
            format!("cache_aside_1m_keys_zipf099_{}", policy.name()),
            |b| {
                // About 10% of the keys fit: 100k × (32 + 16 + 128) B + buckets.
                let cfg = Config {
                    policy,
                    maxmemory: 20 * 1024 * 1024,
                    samples: 5,
                    ..Config::default()
                };
                let mut replay = Replay::new(cfg, 1, 100);
                // Simulated 1M requests per second; warm up with one chunk.
                let mut i = 0usize;
                let mut play = |n: usize, replay: &mut Replay| {
                    for _ in 0..n {
                        let k = requests[i % requests.len()];
                        replay.request(k, T0_MS * 1000 + i as u64, 0, u64::MAX);
                        i += 1;
                    }
                };
                play(CHUNK, &mut replay);
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        play(CHUNK, &mut replay);
                    }
                    start.elapsed()
                });
                let o = replay.outcome();
                eprintln!(
                    "{}: hit ratio {:.3}, resident {} keys, evicted {}",
                    policy.name(),
                    o.hits as f64 / (o.hits + o.misses) as f64,
                    o.resident,
                    o.evicted
                );
            },
        );
    }
    group.finish();
}

/// The same 1M-request allkeys-lru eviction replay from a fresh store each
/// iteration (deterministic work, so `valgrind --tool=callgrind` instruction
/// counts compare across commits), beside exact-lru and s3-fifo through the
/// seam, and allkeys-lru under the objects memory model.
fn eviction_seam(c: &mut Criterion) {
    const KEYS: u64 = 1_000_000;
    const N: usize = 1_000_000;
    let requests = zipf_requests(KEYS, 0.99, N, 11);
    let mut group = c.benchmark_group("eviction_seam");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(N as u64));
    let cases = [
        ("allkeys-lru", MemoryModel::Redis),
        ("exact-lru", MemoryModel::Redis),
        ("s3-fifo", MemoryModel::Redis),
        ("allkeys-lru", MemoryModel::Objects),
    ];
    for (name, model) in cases {
        let policy = Policy::parse(name).expect("registered policy");
        let cfg = Config {
            policy,
            // About 10% of the keys fit under either model.
            maxmemory: match model {
                MemoryModel::Redis => 20 * 1024 * 1024,
                MemoryModel::Objects => 100_000 * (KEY_LEN as u64 + 100),
            },
            memory_model: model,
            ..Config::default()
        };
        group.bench_function(format!("replay_1m_{}_{}", name, model.name()), |b| {
            b.iter(|| {
                let mut replay = Replay::new(cfg.clone(), 1, 100);
                for (i, &k) in requests.iter().enumerate() {
                    replay.request(k, T0_MS * 1000 + i as u64, 0, u64::MAX);
                }
                black_box(replay.outcome())
            });
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    mix,
    expiry_storm,
    cache_aside_eviction,
    eviction_seam
);
criterion_main!(benches);
