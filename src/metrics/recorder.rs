//! The [`Recorder`]: counters, expiry-lag histograms and time series of one
//! run, all on the simulated clock, excluding the warm-up.

use hdrhistogram::Histogram;

use super::result::{LatencyBucket, TimeSeries};
use super::schema;
use crate::store::{KeyEvent, Micros, Removal, SimValue, Store, NO_TTL};

/// Per-namespace counters.
#[derive(Clone, Debug, Default)]
pub struct NsCounters {
    /// Client requests: commands the clients sent, cache fills excluded.
    pub requests: u64,
    /// Commands sent to the store, cache fills included.
    pub commands: u64,
    /// Reads that found the key.
    pub hits: u64,
    /// Reads that did not.
    pub misses: u64,
    /// Misses of keys never written (or deleted by a client).
    pub misses_cold: u64,
    /// Misses of keys that had expired.
    pub misses_expired: u64,
    /// Misses of keys that had been evicted.
    pub misses_evicted: u64,
    /// Keys evicted.
    pub evicted: u64,
    /// Keys removed by expiry (lazy or active).
    pub expired: u64,
    /// Keys created (written while absent).
    pub created: u64,
    /// Keys removed, for any reason.
    pub removed: u64,
    /// Sum of residence times (creation to removal) of removed keys, µs.
    pub residence_us: u64,
    /// Write commands refused with OOM.
    pub oom: u64,
}

/// One namespace as the recorder sees it.
#[derive(Clone, Debug)]
pub struct NsStats {
    /// The namespace as written (key prefix).
    pub name: String,
    /// Sanitised for column names.
    pub col: String,
    /// Counters since the warm-up ended.
    pub total: NsCounters,
    /// Counters since the last sample.
    pub interval: NsCounters,
    /// Keys of the namespace currently resident (expired-but-unreclaimed included).
    pub resident: u64,
    /// Sum of `resident` over samples.
    pub resident_sum: f64,
    /// Samples taken since the namespace appeared.
    pub samples: u64,
    /// Index of its first series in the time series.
    pub series: usize,
}

/// Why a read missed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissCause {
    /// Never written, or deleted by a client.
    Cold,
    /// The key had expired.
    Expired,
    /// The key had been evicted.
    Evicted,
}

const LAG_BUCKETS: usize = 48;

/// Collects a run's metrics.
pub struct Recorder {
    /// True once the warm-up is over.
    pub measuring: bool,
    /// Simulated time the measurement started.
    pub measure_start: Micros,
    /// Namespaces, in registration order.
    pub ns: Vec<NsStats>,
    /// Commands sent to the store over the whole run (fills and warm-up included).
    pub sim_ops: u64,
    /// Client requests over the whole run (warm-up included, fills excluded).
    pub sim_requests: u64,
    /// Evictions of keys whose TTL had not run out (or that had none).
    pub evicted_premature: u64,
    /// Keys removed by lazy expiry.
    pub expired_lazy: u64,
    /// Keys removed by the active expire cycle.
    pub expired_active: u64,
    /// Write commands refused with OOM.
    pub oom_rejections: u64,
    lag: [Histogram<u64>; 2],
    lag_buckets: [[u64; LAG_BUCKETS]; 2],
    lag_sum_us: u128,
    lag_count: u64,
    lag_max_us: u64,
    /// Peak of `used_memory`, checked after every command and cron tick.
    pub used_memory_peak: u64,
    used_samples: Vec<u64>,
    live_sum: f64,
    stale_mem_sum: f64,
    /// Peak of sampled stale memory.
    pub stale_memory_peak: u64,
    /// Peak of sampled stale keys.
    pub stale_keys_peak: u64,
    /// Longest single blocking stretch (an expire cycle, or eviction within one command), µs.
    pub blocked_max_us: u64,
    /// Total modelled blocking, µs.
    pub blocked_total_us: u64,
    interval_blocked_us: u64,
    /// Sampled time series.
    pub series: TimeSeries,
    /// Last seen `eviction_time_us` of the store (for per-command blocking).
    pub eviction_seen_us: u64,
    /// Last seen `expire_cycle_time_used_us` of the store.
    pub expire_seen_us: u64,
    /// The store's (`keyspace_hits`, `keyspace_misses`) when the measurement
    /// began, so the run reports Redis's own counters over the measured part.
    pub keyspace_at_start: (u64, u64),
}

impl Recorder {
    /// A recorder for these namespaces (name, sanitised column prefix).
    pub fn new(namespaces: &[(String, String)]) -> Self {
        let mut series = TimeSeries::default();
        for m in schema::SERIES {
            series.add(m.name, "");
        }
        let hist = || Histogram::<u64>::new_with_bounds(1, 1 << 45, 3).expect("valid bounds");
        let mut r = Recorder {
            measuring: false,
            measure_start: 0,
            ns: Vec::new(),
            sim_ops: 0,
            sim_requests: 0,
            evicted_premature: 0,
            expired_lazy: 0,
            expired_active: 0,
            oom_rejections: 0,
            lag: [hist(), hist()],
            lag_buckets: [[0; LAG_BUCKETS]; 2],
            lag_sum_us: 0,
            lag_count: 0,
            lag_max_us: 0,
            used_memory_peak: 0,
            used_samples: Vec::new(),
            live_sum: 0.0,
            stale_mem_sum: 0.0,
            stale_memory_peak: 0,
            stale_keys_peak: 0,
            blocked_max_us: 0,
            blocked_total_us: 0,
            interval_blocked_us: 0,
            series,
            eviction_seen_us: 0,
            expire_seen_us: 0,
            keyspace_at_start: (0, 0),
        };
        for (name, col) in namespaces {
            r.add_ns(name, col);
        }
        r
    }

    /// Adds a namespace (also after the run started, for traces); returns its index.
    pub fn add_ns(&mut self, name: &str, col: &str) -> usize {
        let first = self.series.names.len();
        for m in schema::NS_SERIES {
            self.series.add(m.name, name);
        }
        self.ns.push(NsStats {
            name: name.to_string(),
            col: col.to_string(),
            total: NsCounters::default(),
            interval: NsCounters::default(),
            resident: 0,
            resident_sum: 0.0,
            samples: 0,
            series: first,
        });
        self.ns.len() - 1
    }

    /// Ends the warm-up at `now`: from here on everything counts.
    pub fn start_measuring(&mut self, now: Micros, store: &Store<SimValue>) {
        self.measuring = true;
        self.measure_start = now;
        self.used_memory_peak = store.used_memory();
        let s = store.stats();
        self.keyspace_at_start = (s.keyspace_hits, s.keyspace_misses);
        for n in &mut self.ns {
            n.interval = NsCounters::default();
        }
        self.interval_blocked_us = 0;
    }

    /// True when a sample at `now` closes an interval of measurement: after
    /// the warm-up ended, and not at the very instant it ended (that interval
    /// would be empty and show as a dip to zero in every per-interval series).
    pub fn sample_due(&self, now: Micros) -> bool {
        self.measuring && now > self.measure_start
    }

    /// Counts a client request of namespace `ns` (one command).
    #[inline]
    pub fn request(&mut self, ns: usize) {
        self.sim_requests += 1;
        self.sim_ops += 1;
        if self.measuring {
            let n = &mut self.ns[ns];
            n.total.requests += 1;
            n.total.commands += 1;
            n.interval.requests += 1;
            n.interval.commands += 1;
        }
    }

    /// Counts a cache fill of namespace `ns`: a command, not a request.
    #[inline]
    pub fn fill(&mut self, ns: usize) {
        self.sim_ops += 1;
        if self.measuring {
            self.ns[ns].total.commands += 1;
            self.ns[ns].interval.commands += 1;
        }
    }

    /// Counts a read's outcome.
    #[inline]
    pub fn read(&mut self, ns: usize, miss: Option<MissCause>) {
        if !self.measuring {
            return;
        }
        let n = &mut self.ns[ns];
        match miss {
            None => {
                n.total.hits += 1;
                n.interval.hits += 1;
            }
            Some(c) => {
                n.total.misses += 1;
                n.interval.misses += 1;
                match c {
                    MissCause::Cold => n.total.misses_cold += 1,
                    MissCause::Expired => n.total.misses_expired += 1,
                    MissCause::Evicted => n.total.misses_evicted += 1,
                }
            }
        }
    }

    /// Counts an OOM refusal.
    #[inline]
    pub fn oom(&mut self, ns: usize) {
        if self.measuring {
            self.oom_rejections += 1;
            self.ns[ns].total.oom += 1;
        }
    }

    /// A key of `ns` was created (it is resident; how long it stays comes
    /// with its removal event).
    #[inline]
    pub fn created(&mut self, ns: usize) {
        self.ns[ns].resident += 1;
        if self.measuring {
            self.ns[ns].total.created += 1;
        }
    }

    /// A key of `ns` left the keyspace (its event tells when it came).
    #[inline]
    pub fn removed(&mut self, ns: usize, ev: &KeyEvent) {
        let n = &mut self.ns[ns];
        n.resident = n.resident.saturating_sub(1);
        if !self.measuring {
            return;
        }
        n.total.removed += 1;
        n.total.residence_us += ev.at.saturating_sub(ev.born);
        match ev.cause {
            Removal::Evicted => {
                n.total.evicted += 1;
                n.interval.evicted += 1;
                if ev.expire_at_ms == NO_TTL || (ev.at / 1000) as i64 <= ev.expire_at_ms {
                    self.evicted_premature += 1;
                }
            }
            Removal::ExpiredLazy | Removal::ExpiredActive => {
                n.total.expired += 1;
                n.interval.expired += 1;
                let k = if ev.cause == Removal::ExpiredLazy {
                    self.expired_lazy += 1;
                    0
                } else {
                    self.expired_active += 1;
                    1
                };
                let lag = ev.at.saturating_sub(ev.expire_at_ms.max(0) as u64 * 1000);
                self.lag[k].saturating_record(lag.max(1));
                let ms = lag / 1000;
                let b = if ms == 0 {
                    0
                } else {
                    (64 - ms.leading_zeros() as usize).min(LAG_BUCKETS - 1)
                };
                self.lag_buckets[k][b] += 1;
                self.lag_sum_us += lag as u128;
                self.lag_count += 1;
                self.lag_max_us = self.lag_max_us.max(lag);
            }
            Removal::Deleted => {}
        }
    }

    /// The server was blocked for `us` in one stretch.
    #[inline]
    pub fn blocked(&mut self, us: u64) {
        if self.measuring && us > 0 {
            self.blocked_max_us = self.blocked_max_us.max(us);
            self.blocked_total_us += us;
            self.interval_blocked_us += us;
        }
    }

    /// Tracks the `used_memory` peak.
    #[inline]
    pub fn memory(&mut self, used: u64) {
        if self.measuring && used > self.used_memory_peak {
            self.used_memory_peak = used;
        }
    }

    /// Takes a sample at `now` (relative `time_ms`): O(volatile keys).
    pub fn sample(&mut self, time_ms: u64, store: &Store<SimValue>) {
        if !self.measuring {
            return;
        }
        let (stale_keys, stale_bytes) = store.stale();
        let used = store.used_memory();
        let live = store.dataset_memory().saturating_sub(stale_bytes);
        self.used_samples.push(used);
        self.live_sum += live as f64;
        self.stale_mem_sum += stale_bytes as f64;
        self.stale_keys_peak = self.stale_keys_peak.max(stale_keys);
        self.stale_memory_peak = self.stale_memory_peak.max(stale_bytes);
        let (mut hits, mut misses, mut ev, mut ex) = (0, 0, 0, 0);
        for n in &self.ns {
            hits += n.interval.hits;
            misses += n.interval.misses;
            ev += n.interval.evicted;
            ex += n.interval.expired;
        }
        self.series.row(time_ms);
        // In the order of schema::SERIES (and then schema::NS_SERIES).
        let globals: [f64; schema::SERIES.len()] = [
            store.dbsize() as f64,
            store.volatile_keys() as f64,
            stale_keys as f64,
            used as f64,
            live as f64,
            stale_bytes as f64,
            hits as f64,
            misses as f64,
            ev as f64,
            ex as f64,
            self.interval_blocked_us as f64 / 1000.0,
        ];
        for (i, v) in globals.into_iter().enumerate() {
            self.series.set(i, v);
        }
        for n in self.ns.iter_mut() {
            let values: [f64; schema::NS_SERIES.len()] = [
                n.resident as f64,
                n.interval.hits as f64,
                n.interval.misses as f64,
                n.interval.evicted as f64,
                n.interval.expired as f64,
            ];
            for (i, v) in values.into_iter().enumerate() {
                self.series.set(n.series + i, v);
            }
            n.resident_sum += n.resident as f64;
            n.samples += 1;
            n.interval = NsCounters::default();
        }
        self.interval_blocked_us = 0;
    }

    /// Number of samples taken.
    pub fn samples(&self) -> usize {
        self.used_samples.len()
    }

    /// Mean, p99 and mean live / stale memory over samples.
    pub fn memory_stats(&self) -> (f64, u64, f64, f64) {
        let n = self.used_samples.len();
        if n == 0 {
            return (0.0, 0, 0.0, 0.0);
        }
        let mean = self.used_samples.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let mut sorted = self.used_samples.clone();
        sorted.sort_unstable();
        let p99 = sorted[((n as f64 * 0.99).ceil() as usize).clamp(1, n) - 1];
        (
            mean,
            p99,
            self.live_sum / n as f64,
            self.stale_mem_sum / n as f64,
        )
    }

    /// Expiry lag over both kinds, in ms: mean, p50, p99, max.
    pub fn lag_stats(&self) -> (f64, f64, f64, f64) {
        if self.lag_count == 0 {
            return (0.0, 0.0, 0.0, 0.0);
        }
        let mut all = self.lag[0].clone();
        all.add(&self.lag[1]).expect("same bounds");
        let q = |p: f64| all.value_at_quantile(p) as f64 / 1000.0;
        (
            self.lag_sum_us as f64 / self.lag_count as f64 / 1000.0,
            q(0.5),
            q(0.99),
            self.lag_max_us as f64 / 1000.0,
        )
    }

    /// The expiry-lag histogram as log-spaced buckets, lazy then active,
    /// each up to its highest non-empty bucket.
    pub fn latency_buckets(&self) -> Vec<LatencyBucket> {
        let mut out = Vec::new();
        for (k, kind) in ["lazy", "active"].into_iter().enumerate() {
            let b = &self.lag_buckets[k];
            let Some(top) = b.iter().rposition(|&c| c > 0) else {
                continue;
            };
            for (i, &count) in b.iter().enumerate().take(top + 1) {
                let (low, high) = if i == 0 {
                    (0.0, 1.0)
                } else {
                    ((1u64 << (i - 1)) as f64, (1u64 << i) as f64)
                };
                out.push(LatencyBucket {
                    kind,
                    lag_ms_low: low,
                    lag_ms_high: high,
                    count,
                });
            }
        }
        out
    }
}
