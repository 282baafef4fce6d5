//! The cache-aside replay used to compare eviction policies with a real
//! redis-server: GET a key; on a miss, SET it with a fixed-size value. Keys
//! are `key:%08d` drawn from a seeded Zipf popularity, requests are paced at a
//! fixed rate (the rate matters: Redis's LRU clock has 1-second resolution).

use crate::store::{Config, Key, Micros, SetCond, SetTtl, SimValue, Store};
use rand::SeedableRng;
use rand_distr::{Distribution, Zipf};
use rand_pcg::Pcg64Mcg;

/// Unix ms at which replays start.
pub const T0_MS: u64 = 1_700_000_000_000;
/// Length of `key:%08d`.
pub const KEY_LEN: u32 = 12;

/// A seeded Zipf(`exponent`) sequence of `n` requests over `keys` keys
/// (key 0 is the most popular).
pub fn zipf_requests(keys: u64, exponent: f64, n: usize, seed: u64) -> Vec<u32> {
    let zipf = Zipf::new(keys, exponent).expect("keys >= 1 and exponent >= 0");
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..n).map(|_| zipf.sample(&mut rng) as u32 - 1).collect()
}

/// What a replay measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Outcome {
    /// GETs that found their key.
    pub hits: u64,
    /// GETs that missed (each followed by a fill SET).
    pub misses: u64,
    /// Fill SETs refused with OOM.
    pub oom: u64,
    /// Keys evicted.
    pub evicted: u64,
    /// Keys resident at the end.
    pub resident: u64,
    /// `used_memory` at the end.
    pub used_memory: u64,
}

impl Outcome {
    /// hits / (hits + misses).
    pub fn hit_ratio(&self) -> f64 {
        self.hits as f64 / (self.hits + self.misses).max(1) as f64
    }
}

/// Replays `requests` (key indices) at `rate` requests per second through a
/// fresh store, with the server cron at `cfg.hz`, filling misses with
/// `value_len`-byte values and no TTL.
pub fn run(cfg: Config, seed: u64, requests: &[u32], rate: u64, value_len: u32) -> Outcome {
    let times: Vec<u64> = (0..requests.len() as u64)
        .map(|i| i * 1_000_000 / rate)
        .collect();
    run_at(cfg, seed, requests, &times, value_len, |_| 0)
}

/// Replays `requests` at the given times (µs after the start), filling a miss
/// of request `i` with a TTL of `ttl_s(i)` seconds (0: none).
pub fn run_at(
    cfg: Config,
    seed: u64,
    requests: &[u32],
    times_us: &[u64],
    value_len: u32,
    ttl_s: impl Fn(usize) -> u64,
) -> Outcome {
    let next = next_uses(requests);
    let mut replay = Replay::new(cfg, seed, value_len);
    for (i, (&k, &t)) in requests.iter().zip(times_us).enumerate() {
        replay.request(k, T0_MS * 1000 + t, ttl_s(i), next[i]);
    }
    replay.outcome()
}

/// For each request, the index of the next request for the same key
/// (`u64::MAX` if none): the future Belady's policy needs.
pub fn next_uses(requests: &[u32]) -> Vec<u64> {
    let mut next = vec![u64::MAX; requests.len()];
    let mut last_seen: rustc_hash::FxHashMap<u32, usize> = Default::default();
    for (i, &k) in requests.iter().enumerate().rev() {
        if let Some(&j) = last_seen.get(&k) {
            next[i] = j as u64;
        }
        last_seen.insert(k, i);
    }
    next
}

/// A cache-aside client and its server, replaying requests one at a time (the
/// benches keep one warm replay across iterations).
pub struct Replay {
    store: Store<SimValue>,
    next_cron: Micros,
    value: SimValue,
    out: Outcome,
}

impl Replay {
    /// A fresh server at [`T0_MS`], filling misses with `value_len` bytes.
    pub fn new(cfg: Config, seed: u64, value_len: u32) -> Replay {
        let start: Micros = T0_MS * 1000;
        let store: Store<SimValue> = Store::new(cfg, seed, start);
        let next_cron = start + store.cron_period();
        Replay {
            store,
            next_cron,
            value: SimValue::Blob(value_len),
            out: Outcome::default(),
        }
    }

    /// One request for key `k` at simulated time `now`: GET, and on a miss
    /// SET with a TTL of `ttl_s` seconds (0: none). Runs any cron tick due.
    /// `next_use` is when the key is requested next (only the `belady`
    /// policy reads it; pass `u64::MAX` if unknown).
    #[inline]
    pub fn request(&mut self, k: u32, now: Micros, ttl_s: u64, next_use: u64) {
        let store = &mut self.store;
        while self.next_cron <= now {
            store.cron(self.next_cron);
            self.next_cron += store.cron_period();
        }
        let key = Key {
            id: k as u64,
            len: KEY_LEN,
        };
        let _ = store.begin(now, false);
        if store.get(key).is_some() {
            self.out.hits += 1;
            store.set_next_use(key.id, next_use);
            return;
        }
        self.out.misses += 1;
        if store.begin(now, true).is_err() {
            self.out.oom += 1;
            return;
        }
        let ttl = match ttl_s {
            0 => SetTtl::Clear,
            s => SetTtl::At(store.now_ms() + s as i64 * 1000),
        };
        store.set(key, self.value, SetCond::Always, ttl, false);
        store.set_next_use(key.id, next_use);
        store.before_sleep(now);
    }

    /// The store (for inspection).
    pub fn store(&self) -> &Store<SimValue> {
        &self.store
    }

    /// Counters so far.
    pub fn outcome(&self) -> Outcome {
        Outcome {
            evicted: self.store.stats().evicted_keys,
            resident: self.store.dbsize() as u64,
            used_memory: self.store.used_memory(),
            ..self.out
        }
    }
}
