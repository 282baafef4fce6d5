//! Active expiry: Redis 7.0's `activeExpireCycle` (src/expire.c).
//!
//! A slow cycle runs once per cron tick; a fast cycle runs from
//! `beforeSleep` only when the previous cycle hit its time cap (the
//! stale-percentage escape in the source compares a fraction with a
//! percentage, so it is always taken: see docs/redis-facts.md §3). Each loop
//! iteration walks the expires table bucket by bucket from a persistent
//! cursor, examining every entry of each bucket, until it has sampled
//! `keys_per_loop` keys or visited 20× that many buckets; the database is
//! looped again while more than `acceptable_stale` % of the sampled keys had
//! expired. Every 16 iterations the elapsed time is checked against the
//! budget (25 % of a cron period at effort 1, or 1 ms for a fast cycle).
//!
//! Elapsed time is *modelled* with [`CostModel`](super::CostModel): a cost
//! per bucket visited, per entry examined, and per key deleted. A mass
//! expiry therefore shows as cycles that hit their cap and as time the server
//! is blocked (`expire_cycle_max_us`).

use super::dict::NIL;
use super::{Payload, Removal, Store};

/// Slow (cron) or fast (`beforeSleep`) cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CycleKind {
    /// From `databasesCron`, budget a share of the cron period.
    Slow,
    /// From `beforeSleep`, budget `fast_duration_us`.
    Fast,
}

/// State `activeExpireCycle` keeps across calls (statics and per-DB fields).
#[derive(Clone, Debug, Default)]
pub struct State {
    /// The last cycle stopped at its time limit: a fast cycle is due.
    pub(super) timelimit_exit: bool,
    last_fast_cycle: u64,
    /// `db->expires_cursor`.
    cursor: u64,
    /// `db->avg_ttl` (ms).
    pub avg_ttl: i64,
}

impl<P: Payload> Store<P> {
    /// Runs one active expire cycle of the given kind at the current time.
    pub(super) fn active_expire_cycle(&mut self, kind: CycleKind) {
        let params = self.cfg.expire_params();
        let cost = self.cfg.cost;
        let start = self.now;
        if kind == CycleKind::Fast {
            if !self.expire_state.timelimit_exit {
                return;
            }
            if start < self.expire_state.last_fast_cycle + params.fast_duration_us * 2 {
                return;
            }
            self.expire_state.last_fast_cycle = start;
        }
        let mut timelimit =
            params.slow_time_perc * 1_000_000 / self.cfg.hz.clamp(1, 500) as u64 / 100;
        if timelimit == 0 {
            timelimit = 1;
        }
        if kind == CycleKind::Fast {
            timelimit = params.fast_duration_us;
        }
        self.expire_state.timelimit_exit = false;
        self.stats.expire_cycles += 1;

        let mut elapsed_ns: u64 = 0;
        let mut total_sampled: u64 = 0;
        let mut total_expired: u64 = 0;
        let mut iteration: u64 = 0;
        let mut bucket = std::mem::take(&mut self.scratch);
        loop {
            iteration += 1;
            let num = self.expires.len() as u64;
            if num == 0 {
                self.expire_state.avg_ttl = 0;
                break;
            }
            let slots = self.expires.slots() as u64;
            // The loop's "now": the cycle's start plus the modelled time spent.
            let now_ms = ((start + elapsed_ns / 1000) / 1000) as i64;
            if slots > 4 && num * 100 / slots < 1 {
                break;
            }
            let num = num.min(params.keys_per_loop);
            let max_buckets = num * 20;
            let mut sampled = 0u64;
            let mut expired = 0u64;
            let mut checked_buckets = 0u64;
            let mut ttl_sum: i64 = 0;
            let mut ttl_samples: i64 = 0;
            while sampled < num && checked_buckets < max_buckets {
                // A run of empty buckets only moves the cursor on.
                let empty = self
                    .expires
                    .empty_run(self.expire_state.cursor, max_buckets - checked_buckets);
                if empty > 0 {
                    checked_buckets += empty;
                    self.expire_state.cursor = self.expire_state.cursor.wrapping_add(empty);
                    continue;
                }
                for table in 0..2 {
                    if table == 1 && !self.expires.is_rehashing() {
                        break;
                    }
                    bucket.clear();
                    let idx = (self.expire_state.cursor as usize)
                        & self.expires.table_size(table).wrapping_sub(1);
                    self.expires.bucket_entries(table, idx, &mut bucket);
                    checked_buckets += 1;
                    for &eid in &bucket {
                        let when = self.exp_when[eid as usize];
                        let ttl = when - now_ms;
                        if now_ms > when {
                            let id = self.exp_main[eid as usize];
                            debug_assert_ne!(id, NIL);
                            self.stats.expired_keys += 1;
                            self.stats.expired_active += 1;
                            self.delete_slot(id, Removal::ExpiredActive);
                            expired += 1;
                        }
                        if ttl > 0 {
                            ttl_sum += ttl;
                            ttl_samples += 1;
                        }
                        sampled += 1;
                    }
                }
                self.expire_state.cursor = self.expire_state.cursor.wrapping_add(1);
            }
            elapsed_ns += checked_buckets * cost.expire_bucket_ns
                + sampled * cost.expire_examine_ns
                + expired * cost.expire_delete_ns;
            total_expired += expired;
            total_sampled += sampled;
            if ttl_samples > 0 {
                let avg = ttl_sum / ttl_samples;
                let st = &mut self.expire_state;
                if st.avg_ttl == 0 {
                    st.avg_ttl = avg;
                }
                st.avg_ttl = (st.avg_ttl / 50) * 49 + avg / 50;
            }
            if iteration & 0xf == 0 && elapsed_ns / 1000 > timelimit {
                self.expire_state.timelimit_exit = true;
                self.stats.expired_time_cap_reached_count += 1;
                break;
            }
            if sampled != 0 && expired * 100 / sampled <= params.acceptable_stale {
                break;
            }
        }
        self.scratch = bucket;
        let elapsed_us = elapsed_ns / 1000;
        // The server is blocked while the cycle runs: its clock moves on, so
        // commands that arrive meanwhile are served after it.
        self.now = self.now.max(start + elapsed_us);
        self.stats.expire_cycle_time_used_us += elapsed_us;
        self.stats.expire_cycle_max_us = self.stats.expire_cycle_max_us.max(elapsed_us);
        self.stats.expire_keys_sampled += total_sampled;
        let current = if total_sampled > 0 {
            total_expired as f64 / total_sampled as f64
        } else {
            0.0
        };
        self.stats.expired_stale_perc = current * 0.05 + self.stats.expired_stale_perc * 0.95;
    }

    /// What `n` slow cycles do when no key has a TTL: each counts itself,
    /// resets `avg_ttl` and decays `expired_stale_perc` (with nothing
    /// sampled) by the same float steps the cycle takes, until they no
    /// longer change it.
    pub(super) fn empty_expire_cycles(&mut self, n: u64) {
        debug_assert!(self.expires.is_empty() && !self.expire_state.timelimit_exit);
        self.stats.expire_cycles += n;
        self.expire_state.avg_ttl = 0;
        let perc = &mut self.stats.expired_stale_perc;
        for _ in 0..n {
            // 0.95 times the least subnormal rounds back to it: a fixed
            // point some 14,500 steps down from 1.
            let next = *perc * 0.95;
            if next == *perc {
                break;
            }
            *perc = next;
        }
    }
}
