//! Eviction and memory behaviour a Redis user would recognise, driven through
//! Redis commands (`crate::command::Server`).

use crate::command::{Effect, Server};
use crate::store::Config;

const T0_US: u64 = 1_700_000_000_000_000;

struct R {
    s: Server,
    now: u64,
}

impl R {
    fn new() -> R {
        R {
            s: Server::new(Config::default(), 11, T0_US),
            now: T0_US,
        }
    }
    fn cmd(&mut self, line: &str) -> String {
        let argv = crate::shell::split_args(line.as_bytes()).unwrap();
        let (reply, effect) = self.s.execute(&argv, self.now);
        if let Effect::Sleep(us) = effect {
            self.now += us;
        }
        self.s.store().validate().expect("store invariants");
        reply.to_cli().trim_end_matches('\n').to_string()
    }
    /// Advances the clock by whole seconds with a cron tick each second (the
    /// LRU clock moves only in the cron).
    fn sleep_s(&mut self, s: u64) {
        for _ in 0..s {
            self.now += 1_000_000;
            self.s.store_mut().cron(self.now);
        }
    }
    fn exists(&mut self, k: &str) -> bool {
        self.cmd(&format!("EXISTS {k}")) == "(integer) 1"
    }
    /// Sets maxmemory to the memory in use now: the next write goes over.
    fn cap_at_current_usage(&mut self) {
        let used = self.s.store().used_memory();
        assert_eq!(self.cmd(&format!("CONFIG SET maxmemory {used}")), "OK");
    }
}

#[test]
fn allkeys_lru_evicts_the_least_recently_used_key() {
    let mut r = R::new();
    r.cmd("CONFIG SET maxmemory-policy allkeys-lru");
    r.cmd("CONFIG SET maxmemory-samples 10");
    for k in ["a", "b", "c"] {
        r.cmd(&format!("SET {k} v"));
    }
    r.sleep_s(3);
    r.cmd("GET b");
    r.sleep_s(1);
    r.cmd("GET c");
    r.cap_at_current_usage();
    r.cmd("SET d v");
    r.cmd("PING"); // eviction runs before the next command
    assert!(!r.exists("a"), "a was idle longest");
    assert!(r.exists("b") && r.exists("c") && r.exists("d"));
    assert_eq!(r.s.store().stats().evicted_keys, 1);
}

#[test]
fn allkeys_lfu_evicts_the_least_frequently_used_key() {
    let mut r = R::new();
    r.cmd("CONFIG SET maxmemory-policy allkeys-lfu");
    r.cmd("CONFIG SET maxmemory-samples 10");
    // Factor 0: every access increments (p = 1 / (0 + 1)).
    r.cmd("CONFIG SET lfu-log-factor 0");
    for k in ["a", "b", "c"] {
        r.cmd(&format!("SET {k} v"));
    }
    for _ in 0..3 {
        r.cmd("GET a");
        r.cmd("GET c");
    }
    r.cmd("GET b");
    assert_eq!(r.cmd("OBJECT FREQ b"), "(integer) 6");
    assert_eq!(r.cmd("OBJECT FREQ a"), "(integer) 8");
    r.cap_at_current_usage();
    r.cmd("SET d v");
    r.cmd("PING");
    // d (5) is newer but colder than b (6): LFU evicts d first.
    assert!(!r.exists("d"));
    assert!(r.exists("a") && r.exists("b") && r.exists("c"));
}

#[test]
fn lfu_counter_decays_one_per_decay_period() {
    let mut r = R::new();
    r.cmd("CONFIG SET maxmemory-policy allkeys-lfu");
    r.cmd("CONFIG SET lfu-log-factor 0");
    r.cmd("SET k v");
    for _ in 0..4 {
        r.cmd("GET k");
    }
    assert_eq!(r.cmd("OBJECT FREQ k"), "(integer) 9");
    r.sleep_s(180);
    assert_eq!(
        r.cmd("OBJECT FREQ k"),
        "(integer) 6",
        "lfu-decay-time 1: one per minute"
    );
    r.cmd("CONFIG SET lfu-decay-time 0");
    r.sleep_s(600);
    assert_eq!(
        r.cmd("OBJECT FREQ k"),
        "(integer) 9",
        "decay off: stored counter"
    );
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiry_and_spares_persistent_keys() {
    let mut r = R::new();
    r.cmd("CONFIG SET maxmemory-policy volatile-ttl");
    r.cmd("CONFIG SET maxmemory-samples 10");
    r.cmd("SET persistent v");
    r.cmd("SET late v EX 500");
    r.cmd("SET soon v EX 100");
    r.cmd("SET mid v EX 300");
    r.cap_at_current_usage();
    r.cmd("SET x v");
    r.cmd("PING");
    assert!(!r.exists("soon"));
    assert!(r.exists("late") && r.exists("mid") && r.exists("persistent"));
}

#[test]
fn volatile_policies_never_evict_keys_without_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let mut r = R::new();
        r.cmd(&format!("CONFIG SET maxmemory-policy {policy}"));
        for i in 0..50 {
            r.cmd(&format!("SET p{i} v"));
            r.cmd(&format!("SET t{i} v EX 1000"));
        }
        let cap = r.s.store().used_memory() - 600;
        r.cmd(&format!("CONFIG SET maxmemory {cap}"));
        for i in 0..20 {
            r.cmd(&format!("SET n{i} v"));
        }
        let evicted = r.s.store().stats().evicted_keys;
        assert!(evicted > 0, "{policy}: something was evicted");
        for i in 0..50 {
            assert!(
                r.exists(&format!("p{i}")),
                "{policy} evicted persistent p{i}"
            );
        }
    }
}

#[test]
fn volatile_policy_with_only_persistent_keys_refuses_writes_with_oom() {
    let mut r = R::new();
    r.cmd("CONFIG SET maxmemory-policy volatile-lru");
    r.cmd("SET a v");
    r.cmd("SET b v");
    r.cap_at_current_usage();
    r.cmd("SET c v"); // accepted: the check is before the command
    assert_eq!(
        r.cmd("SET d v"),
        "(error) OOM command not allowed when used memory > 'maxmemory'."
    );
    assert_eq!(r.s.store().stats().evicted_keys, 0);
    assert_eq!(r.cmd("DBSIZE"), "(integer) 3");
}

#[test]
fn noeviction_refuses_set_and_incr_but_serves_reads_and_deletes() {
    let mut r = R::new();
    r.cmd("SET a v");
    r.cmd("SET n 10");
    r.cap_at_current_usage();
    r.cmd("SET b v");
    let used = r.s.store().used_memory();
    let oom = "(error) OOM command not allowed when used memory > 'maxmemory'.";
    assert_eq!(r.cmd("SET c v"), oom);
    assert_eq!(r.cmd("INCR n"), oom);
    assert_eq!(r.cmd("SETEX c 10 v"), oom);
    assert_eq!(r.cmd("MSET c v d v"), oom);
    // A refused write leaves the keyspace unchanged.
    assert_eq!(r.s.store().used_memory(), used);
    assert_eq!(r.cmd("GET n"), "\"10\"");
    assert_eq!(r.cmd("EXPIRE a 100"), "(integer) 1");
    assert_eq!(r.cmd("GETEX a PERSIST"), "\"v\"");
    assert_eq!(r.cmd("DEL b n"), "(integer) 2");
    // Deleting made room (the expires table EXPIRE created stays allocated,
    // as in Redis, so b alone is not enough): writes are accepted again.
    assert_eq!(r.cmd("SET c v"), "OK");
    assert_eq!(r.s.store().stats().oom_rejections, 4);
}

#[test]
fn eviction_frees_at_least_the_excess() {
    for policy in [
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "exact-lru",
        "exact-lfu",
        "fifo",
    ] {
        let mut r = R::new();
        r.cmd(&format!("CONFIG SET maxmemory-policy {policy}"));
        r.cmd("CONFIG SET maxmemory 2mb");
        for i in 0..20_000 {
            r.s.execute(
                &[
                    b"SET".to_vec(),
                    format!("key:{i:08}").into_bytes(),
                    vec![b'x'; 100],
                ],
                r.now,
            );
        }
        r.cmd("PING");
        let used = r.s.store().used_memory();
        assert!(used <= 2 * 1024 * 1024, "{policy}: {used} over the limit");
        assert!(r.s.store().stats().evicted_keys > 5_000, "{policy}");
    }
}

#[test]
fn reference_policies_are_exact() {
    // FIFO evicts in write order regardless of access; exact LRU by access.
    let mut fifo = R::new();
    fifo.cmd("CONFIG SET maxmemory-policy fifo");
    let mut lru = R::new();
    lru.cmd("CONFIG SET maxmemory-policy exact-lru");
    for r in [&mut fifo, &mut lru] {
        for k in ["a", "b", "c"] {
            r.cmd(&format!("SET {k} v"));
        }
        r.cmd("GET a");
        r.cap_at_current_usage();
        r.cmd("SET d v");
        r.cmd("PING");
    }
    assert!(!fifo.exists("a") && fifo.exists("b"));
    assert!(lru.exists("a") && !lru.exists("b"));
}

#[test]
fn shared_integers_are_not_used_under_lru_with_maxmemory() {
    let mut r = R::new();
    r.cmd("SET n 123");
    let shared = r.s.store().used_memory();
    r.cmd("DEL n");
    r.cmd("CONFIG SET maxmemory 100mb");
    r.cmd("CONFIG SET maxmemory-policy allkeys-lru");
    r.cmd("SET n 123");
    assert_eq!(r.s.store().used_memory(), shared + 16, "a private INT robj");
}

#[test]
fn dict_refuses_to_grow_past_maxmemory_below_the_load_factor() {
    let mut r = R::new();
    r.cmd("CONFIG SET maxmemory-policy allkeys-random");
    for i in 0..4 {
        r.cmd(&format!("SET k{i} v"));
    }
    // 4 keys in 4 buckets; growing to 8 needs 64 B more.
    let used = r.s.store().used_memory();
    r.cmd(&format!("CONFIG SET maxmemory {}", used + 60));
    r.cmd("SET k4 v");
    // The 5th key must not have doubled the table (1.25 ≤ 1.618).
    assert_eq!(r.s.store().main.table_size(0), 4);
    assert!(!r.s.store().main.is_rehashing());
}

#[test]
fn lfu_increments_get_rarer_as_the_counter_grows() {
    // LFULogIncr with the default factor 10: above 5 an access increments
    // with probability 1 / ((c - 5) * 10 + 1); 100 accesses reach ~ 5 + 4.
    let mut r = R::new();
    r.cmd("CONFIG SET maxmemory-policy allkeys-lfu");
    r.cmd("SET k v");
    for _ in 0..100 {
        r.cmd("GET k");
    }
    let freq: i64 = r.cmd("OBJECT FREQ k")[10..].parse().unwrap();
    assert!((7..=11).contains(&freq), "freq {freq} after 100 hits");
}

#[test]
fn a_miniature_runs_the_slow_expire_cycle_on_one_tick_in_one_over_its_rate() {
    use crate::store::{SimValue, Store};
    let run = |rate: f64| {
        let cfg = Config {
            miniature_rate: rate,
            ..Config::default()
        };
        let mut s: Store<SimValue> = Store::new(cfg, 1, T0_US);
        let period = s.cron_period();
        for i in 1..=64 {
            s.cron(T0_US + i * period);
        }
        (period, s.stats().expire_cycles)
    };
    // The tick (and with it the LRU clock and rehashing) is unchanged.
    assert_eq!(run(1.0), (100_000, 64));
    assert_eq!(run(1.0 / 32.0), (100_000, 2));
    assert_eq!(run(0.25), (100_000, 16));
}

#[test]
fn skipping_ticks_without_ttl_keys_matches_running_them() {
    // Keys expire by the active cycle (expired_stale_perc rises), then no
    // key has a TTL: skipping the idle ticks must leave INFO's expire
    // figures (cycles, stale percentage, avg_ttl) as running each tick does.
    let setup = || {
        let mut r = R::new();
        for i in 0..200 {
            r.cmd(&format!("SET k{i} v PX 50"));
        }
        r.cmd("SET forever v");
        let period = r.s.store().cron_period();
        let start = r.now;
        while r.s.store().idle_ticks_ahead() < u64::MAX {
            r.now += period;
            let now = r.now;
            r.s.store_mut().cron(now);
            assert!(r.now < start + 60 * 1_000_000, "the TTL keys never left");
        }
        assert!(r.s.store().stats().expired_stale_perc > 0.0);
        (r, period)
    };
    let n = 200_000;
    let (mut skipped, period) = setup();
    let (mut each, _) = setup();
    let cycles = skipped.s.store().stats().expire_cycles;
    let last = skipped.now + n * period;
    skipped.s.store_mut().skip_idle_ticks(n, last);
    for _ in 0..n {
        each.now += period;
        let now = each.now;
        each.s.store_mut().cron(now);
    }
    skipped.now = last;
    assert_eq!(skipped.s.store().stats(), each.s.store().stats());
    assert_eq!(skipped.s.store().stats().expire_cycles, cycles + n);
    assert_eq!(skipped.cmd("INFO"), each.cmd("INFO"));
}

/// Until memory first goes over `maxmemory`, Redis's policies of one class
/// ([`crate::store::Policy::alike_until_eviction`]) give the same replies
/// and the same memory, and the store reports that nothing depended on the
/// policy; a reply that shows the policy, or an eviction check over the
/// limit, reports that something did. This is what lets a sweep write one
/// run for all of them.
#[test]
fn policies_of_a_class_are_alike_until_the_limit() {
    use crate::store::Policy;
    let script = [
        "SET a 1",
        "INCR n",
        "SET b hello EX 100",
        "GET a",
        "MSET c 12 d 12345",
        "EXPIRE c 5",
        "GET b",
        "APPEND b xyz",
        "DEL a",
        "PTTL b",
        "DBSIZE",
    ];
    let run = |policy: Policy, maxmemory: u64| {
        let cfg = Config {
            maxmemory,
            policy,
            ..Config::default()
        };
        let mut r = R {
            s: Server::new(cfg, 11, T0_US),
            now: T0_US,
        };
        let mut replies: Vec<String> = script.iter().map(|c| r.cmd(c)).collect();
        r.sleep_s(10);
        replies.extend(["GET c", "GET b", "INCR n"].map(|c| r.cmd(c)));
        (replies, r.s.store().used_memory(), r)
    };
    let mut memory = Vec::new();
    for class in [false, true] {
        let members: Vec<Policy> = Policy::ALL
            .into_iter()
            .filter(|p| p.alike_until_eviction() == Some(class))
            .collect();
        assert_eq!(members.len(), 4);
        let (replies, used, _) = run(members[0], 1 << 30);
        for &p in &members {
            let (rp, u, mut r) = run(p, 1 << 30);
            assert_eq!((&rp, u), (&replies, used), "{p:?} against {:?}", members[0]);
            assert!(!r.s.store().policy_used(), "{p:?}");
            r.cmd("OBJECT ENCODING n");
            assert!(r.s.store().policy_used(), "{p:?}: OBJECT shows the policy");
            // Over the limit from the first command: the policy decides.
            let (_, _, r) = run(p, 1);
            assert!(r.s.store().policy_used(), "{p:?} over maxmemory");
            // No limit: nothing can depend on the policy.
            let (_, _, r) = run(p, 0);
            assert!(!r.s.store().policy_used(), "{p:?} without maxmemory");
        }
        memory.push(used);
    }
    // The classes differ: with an LRU or LFU policy and a limit, the small
    // integers take objects of their own.
    assert!(memory[1] > memory[0], "{memory:?}");
}

/// A store that starts under the objects model with a reference policy
/// keeps no dict chains (nothing reads them); switched to a Redis policy
/// that samples the keyspace, it builds them and evicts as that policy,
/// every command checked against the store's invariants.
#[test]
fn a_store_without_chains_builds_them_when_a_sampling_policy_takes_over() {
    let cfg = Config {
        memory_model: crate::store::MemoryModel::Objects,
        policy: crate::store::Policy::ExactLru,
        maxmemory: 20_000,
        ..Config::default()
    };
    let mut r = R {
        s: Server::new(cfg, 11, T0_US),
        now: T0_US,
    };
    assert!(!r.s.store().main.has_chains());
    for i in 0..500 {
        r.cmd(&format!("SET key:{i} {}", "x".repeat(90)));
    }
    let evicted = r.s.store().stats().evicted_keys;
    assert!(evicted > 200, "exact-lru evicted {evicted}");
    assert!(!r.s.store().main.has_chains());
    assert_eq!(r.cmd("CONFIG SET maxmemory-policy allkeys-lru"), "OK");
    for i in 500..1_000 {
        r.cmd(&format!("SET key:{i} {}", "x".repeat(90)));
    }
    assert!(r.s.store().main.has_chains());
    assert!(r.s.store().stats().evicted_keys > evicted + 200);
    assert!(r.s.store().used_memory() <= 20_000);
    assert!(r.exists("key:999"));
}
