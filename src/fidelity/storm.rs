//! The expiry-storm experiment: many keys that expire over a few seconds and
//! are never touched again, so only the active expire cycle reclaims them.
//! It records expired-but-resident ("stale") keys over time, exactly as
//! `scripts/expiry_storm_redis.py` does against a real redis-server, so the
//! model's active expiry can be compared with Redis's.

use crate::store::{Config, Key, SetCond, SetTtl, SimValue, Store};

/// Unix ms at which the storm's expire offsets start (t0).
pub const T0_MS: u64 = 1_700_000_000_000;
/// Keys are written this long before t0 (the real script's lead time).
pub const LEAD_MS: u64 = 2_000;

/// One sample: time since t0, resident keys, keys whose expire time has not
/// passed, and the difference (stale keys).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// ms since t0.
    pub t_ms: u64,
    /// `DBSIZE` (includes stale keys).
    pub keys: u64,
    /// Keys still logically alive.
    pub live: u64,
    /// Expired but resident.
    pub stale: u64,
}

/// Summary figures of one storm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Highest stale count over the samples.
    pub peak_stale: u64,
    /// Mean extra lifetime of an expired key in ms: ∫ stale dt / keys
    /// (trapezoid over the samples).
    pub mean_extra_lifetime_ms: f64,
    /// Active cycles that hit their time cap.
    pub cap_reached: u64,
    /// Longest modelled cycle, µs.
    pub max_cycle_us: u64,
    /// Modelled time spent in active expiry (`expire_cycle_cpu_milliseconds`).
    pub cycle_time_ms: u64,
    /// Keys the active cycle examined.
    pub keys_sampled: u64,
}

/// Runs a storm: keys `storm:%08d` with value `x` and expire times
/// `t0 + offsets[i]`, written at `t0 − LEAD_MS`; samples every `sample_ms`
/// from t0 for `span_ms`.
pub fn run(
    cfg: Config,
    seed: u64,
    offsets_ms: &[u64],
    sample_ms: u64,
    span_ms: u64,
) -> (Vec<Sample>, Summary) {
    let start_us = (T0_MS - LEAD_MS) * 1000;
    let mut store: Store<SimValue> = Store::new(cfg, seed, start_us);
    store
        .begin(start_us, true)
        .expect("no maxmemory in a storm");
    for (i, &off) in offsets_ms.iter().enumerate() {
        let key = Key {
            id: i as u64,
            len: 14,
        };
        let when = (T0_MS + off) as i64;
        store.set(
            key,
            SimValue::Blob(1),
            SetCond::Always,
            SetTtl::At(when),
            false,
        );
    }
    let mut sorted = offsets_ms.to_vec();
    sorted.sort_unstable();
    let period = store.cron_period();
    // The server's cron ticks are not aligned with the observer's samples:
    // on a real server their phase is arbitrary, so put them half a period
    // off the sampling grid (the expected offset), not on it.
    let mut next_cron = start_us + period + period / 2;
    let mut samples = Vec::new();
    let end_us = (T0_MS + span_ms) * 1000;
    let mut t_us = T0_MS * 1000;
    while t_us <= end_us {
        // A sample at t sees the server after every cycle that started before
        // t (a cycle starting exactly at t finishes after the sample).
        while next_cron < t_us {
            store.cron(next_cron);
            store.before_sleep(store.now());
            next_cron += period;
        }
        let t_ms = t_us / 1000 - T0_MS;
        // live iff expire >= now, i.e. offset >= t.
        let live = (sorted.len() - sorted.partition_point(|&o| o < t_ms)) as u64;
        let keys = store.dbsize() as u64;
        samples.push(Sample {
            t_ms,
            keys,
            live,
            stale: keys - live,
        });
        t_us += sample_ms * 1000;
    }
    let summary = summarize(&samples, offsets_ms.len() as u64, &store);
    (samples, summary)
}

fn summarize(samples: &[Sample], n: u64, store: &Store<SimValue>) -> Summary {
    let peak_stale = samples.iter().map(|s| s.stale).max().unwrap_or(0);
    let integral: f64 = samples
        .windows(2)
        .map(|w| (w[0].stale + w[1].stale) as f64 / 2.0 * (w[1].t_ms - w[0].t_ms) as f64)
        .sum();
    Summary {
        peak_stale,
        mean_extra_lifetime_ms: integral / n as f64,
        cap_reached: store.stats().expired_time_cap_reached_count,
        max_cycle_us: store.stats().expire_cycle_max_us,
        cycle_time_ms: store.stats().expire_cycle_time_used_us / 1000,
        keys_sampled: store.stats().expire_keys_sampled,
    }
}
