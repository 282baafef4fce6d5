//! [`StaleTracker`]: stale (expired-but-resident) keys and bytes, kept up to
//! date incrementally so a metrics sample does not scan the keyspace.
//!
//! A key is stale at `now_ms` when it has a TTL and `now_ms > when`. The
//! tracker holds every volatile key's count and bytes either in the stale
//! totals (its `when` is before the last folded time, `cut`) or in a pending
//! bucket per expire ms. Folding to a later `now_ms` moves the buckets that
//! came due into the totals: a sample costs O(expire times crossed since the
//! last sample · log), whatever the number of keys.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

/// Volatile keys' count and bytes, per expire ms until they come due.
#[derive(Clone, Debug, Default)]
pub struct StaleTracker {
    /// Keys whose expire time is before `cut` are in the totals.
    cut: i64,
    keys: u64,
    bytes: u64,
    /// Expire ms → (keys, bytes) of volatile keys not yet counted stale.
    pending: FxHashMap<i64, (u64, u64)>,
    /// Expire times of `pending`, earliest first (may hold times since
    /// emptied, or twice: they are skipped when popped).
    due: BinaryHeap<Reverse<i64>>,
}

impl StaleTracker {
    /// An empty tracker; nothing is stale before `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        StaleTracker {
            cut: now_ms,
            ..Self::default()
        }
    }

    /// A volatile key expiring at `when` now holds `bytes`.
    #[inline]
    pub fn add(&mut self, when: i64, bytes: u64) {
        if when < self.cut {
            self.keys += 1;
            self.bytes += bytes;
            return;
        }
        let e = self.pending.entry(when).or_insert_with(|| {
            self.due.push(Reverse(when));
            (0, 0)
        });
        e.0 += 1;
        e.1 += bytes;
    }

    /// A volatile key expiring at `when` holding `bytes` left (deleted, or
    /// its TTL removed or changed).
    #[inline]
    pub fn remove(&mut self, when: i64, bytes: u64) {
        if when < self.cut {
            self.keys -= 1;
            self.bytes -= bytes;
            return;
        }
        let std::collections::hash_map::Entry::Occupied(mut e) = self.pending.entry(when) else {
            unreachable!("stale tracker: no pending key at {when}");
        };
        let v = e.get_mut();
        v.0 -= 1;
        v.1 -= bytes;
        if v.0 == 0 {
            e.remove();
            self.compact();
        }
    }

    /// A volatile key expiring at `when` went from `old` to `new` bytes.
    #[inline]
    pub fn resize(&mut self, when: i64, old: u64, new: u64) {
        let b = if when < self.cut {
            &mut self.bytes
        } else {
            &mut self.pending.get_mut(&when).expect("pending expire time").1
        };
        *b = *b - old + new;
    }

    /// Folds the expire times before `now_ms` into the totals and returns
    /// (stale keys, stale bytes) at `now_ms` (a time before the last fold
    /// returns the figures as of that fold).
    pub fn at(&mut self, now_ms: i64) -> (u64, u64) {
        if now_ms > self.cut {
            self.cut = now_ms;
            while let Some(&Reverse(when)) = self.due.peek() {
                if when >= now_ms {
                    break;
                }
                self.due.pop();
                if let Some((k, b)) = self.pending.remove(&when) {
                    self.keys += k;
                    self.bytes += b;
                }
            }
        }
        (self.keys, self.bytes)
    }

    /// Drops heap entries of emptied expire times once they outnumber the
    /// live ones, so a key re-armed at the same times cannot grow the heap.
    fn compact(&mut self) {
        if self.due.len() > 2 * self.pending.len() + 1024 {
            self.due = self.pending.keys().map(|&w| Reverse(w)).collect();
        }
    }

    /// Forgets every key (keeps the fold time).
    pub fn clear(&mut self) {
        *self = StaleTracker::new(self.cut);
    }

    /// Compares the tracker with the (expire time, bytes) of every volatile
    /// key, as a full scan sees them; `Err` names the first difference.
    pub fn check(&self, keys: impl Iterator<Item = (i64, u64)>) -> Result<(), String> {
        let (mut sk, mut sb) = (0u64, 0u64);
        let mut pending: FxHashMap<i64, (u64, u64)> = FxHashMap::default();
        for (when, bytes) in keys {
            if when < self.cut {
                sk += 1;
                sb += bytes;
            } else {
                let e = pending.entry(when).or_default();
                e.0 += 1;
                e.1 += bytes;
            }
        }
        if (sk, sb) != (self.keys, self.bytes) {
            return Err(format!(
                "stale tracker: {} keys / {} bytes, a scan finds {sk} / {sb}",
                self.keys, self.bytes
            ));
        }
        if pending != self.pending {
            return Err("stale tracker: pending expire times differ from a scan".into());
        }
        let due: rustc_hash::FxHashSet<i64> = self.due.iter().map(|r| r.0).collect();
        if let Some(w) = pending.keys().find(|w| !due.contains(w)) {
            return Err(format!("stale tracker: expire time {w} is not scheduled"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_due_strictly_after_their_expire_ms() {
        let mut t = StaleTracker::new(0);
        t.add(10, 100);
        t.add(10, 50);
        t.add(20, 7);
        assert_eq!(t.at(10), (0, 0));
        assert_eq!(t.at(11), (2, 150));
        t.resize(10, 50, 60);
        t.resize(20, 7, 8);
        assert_eq!(t.at(11), (2, 160));
        t.remove(10, 100);
        assert_eq!(t.at(21), (2, 68));
        // A key already past its time is stale at once.
        t.add(5, 1);
        assert_eq!(t.at(21), (3, 69));
    }

    #[test]
    fn re_arming_one_time_does_not_grow_the_heap() {
        let mut t = StaleTracker::new(0);
        for _ in 0..100_000 {
            t.add(1_000, 1);
            t.remove(1_000, 1);
        }
        assert!(t.due.len() <= 1025, "{} heap entries", t.due.len());
        assert_eq!(t.at(2_000), (0, 0));
    }
}

#[cfg(test)]
mod store_tests {
    use crate::store::{
        Config, ExpireCond, GetexAction, Key, MemoryModel, Policy, SetCond, SetTtl, Store,
    };
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    /// Random commands at random times, with eviction, active expiry, model
    /// changes and FLUSHALL: after each, the incremental stale figures equal
    /// a full scan's.
    #[test]
    fn incremental_stale_figures_equal_a_full_scan_after_random_operations() {
        let t0: u64 = 1_700_000_000_000_000;
        let mut s: Store<Vec<u8>> = Store::new(Config::default(), 5, t0);
        let mut rng = Pcg64Mcg::seed_from_u64(9);
        let mut now = t0;
        let mut seen_stale = 0u64;
        let mut samples = 0;
        for step in 0..20_000 {
            now += rng.gen_range(0..20_000u64);
            let key = Key {
                id: rng.gen_range(0..300),
                len: 8,
            };
            let when = (now / 1000) as i64 + rng.gen_range(-50..3_000);
            let value = vec![b'x'; rng.gen_range(1..200)];
            s.begin(now, false).ok();
            match rng.gen_range(0..100) {
                0..=29 => {
                    let ttl = match rng.gen_range(0..3) {
                        0 => SetTtl::Clear,
                        1 => SetTtl::Keep,
                        _ => SetTtl::At(when),
                    };
                    s.set(key, value, SetCond::Always, ttl, false);
                }
                30..=44 => {
                    s.get(key);
                }
                45..=54 => {
                    s.expire(key, when, ExpireCond::default());
                }
                55..=59 => {
                    s.persist(key);
                }
                60..=64 => {
                    s.del(key);
                }
                65..=66 => {
                    let _ = s.incr_by(key, 1);
                }
                67..=69 => {
                    // APPEND grows a value in place, keeping its TTL.
                    let add = value.len() as u64;
                    let _ = s.append(key, add, |old| {
                        let mut v = old.cloned().unwrap_or_default();
                        v.extend_from_slice(&value);
                        v
                    });
                }
                70..=74 => {
                    s.getex(key, GetexAction::At(when));
                }
                75..=79 => s.cron(now),
                80..=89 => {
                    s.set(key, value, SetCond::Always, SetTtl::At(when), false);
                }
                90..=95 => {
                    // Sample at a random later time, with no cron in between.
                    now += rng.gen_range(0..2_000_000u64);
                    s.begin(now, false).ok();
                    samples += 1;
                }
                96 => {
                    let cap = s.used_memory() - s.dataset_memory() / 5;
                    let c = s.config_mut();
                    c.maxmemory = if c.maxmemory == 0 { cap } else { 0 };
                    c.policy = Policy::AllKeysLru;
                }
                97 | 98 => {
                    let c = s.config_mut();
                    c.memory_model = match c.memory_model {
                        MemoryModel::Redis => MemoryModel::Objects,
                        MemoryModel::Objects => MemoryModel::Redis,
                    };
                }
                _ if step % 7 == 0 => s.flushall(),
                _ => {}
            }
            let (k, b) = s.stale();
            assert_eq!((k, b), s.stale_scan(), "step {step}");
            seen_stale = seen_stale.max(k);
            s.validate().unwrap_or_else(|e| panic!("step {step}: {e}"));
        }
        assert!(
            seen_stale > 10,
            "the test saw at most {seen_stale} stale keys"
        );
        assert!(samples > 100 && s.stats().evicted_keys > 100);
    }
}
