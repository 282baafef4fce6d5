//! The reference policies against libCacheSim's published miss counts.
//!
//! libCacheSim (github.com/1a1a11a/libCacheSim, commit
//! aa0fc40914b2b786f4b9f4dafb099f8f332b216a, `test/test_evictionAlgo.c`)
//! replays its bundled cloudPhysicsIO trace (113,872 requests in
//! oracleGeneral format) at cache sizes of 128 MiB to 1 GiB in 128 MiB steps,
//! counting capacity in object bytes with no per-object metadata
//! (`consider_obj_metadata` false, so `obj_md_size` 0): every request is a
//! get; a miss inserts the object after evicting until it fits. Here the same
//! requests drive the store directly under the objects memory model: GET, and
//! on a miss SET of `obj_size` bytes with a key length of 0, no TTL.
//!
//! LRU, FIFO and Belady give exactly libCacheSim's counts, and so do the
//! other deterministic ports (S3-FIFO, ARC, SIEVE, and exact LFU against
//! libCacheSim's LFU: on this trace its LFU and SIEVE expectations are the
//! same numbers, and our exact-lfu, sieve and lru-2 give them too). LHD
//! samples with its own random stream and is within 1 %. libCacheSim has no
//! W-TinyLFU expectation (its test is a TODO); ours is printed.

use ttlsim::store::{Config, Key, MemoryModel, Policy, SetCond, SetTtl, SimValue, Store};

const TRACE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/cloudPhysicsIO.oracleGeneral.bin"
);

const MIB: u64 = 1 << 20;

/// One oracleGeneral record.
#[derive(Clone, Copy)]
struct Req {
    time_s: u32,
    obj_id: u64,
    obj_size: u32,
    /// Position of the next request to the object, or `u64::MAX`.
    next: u64,
}

/// A minimal reader: 24-byte little-endian records
/// `u32 time, u64 id, u32 size, i64 next_access_vtime` (-1: none).
fn read_trace() -> Vec<Req> {
    let bytes = std::fs::read(TRACE).unwrap_or_else(|e| panic!("reading {TRACE}: {e}"));
    assert_eq!(bytes.len() % 24, 0, "{TRACE} is not whole 24-byte records");
    bytes
        .chunks_exact(24)
        .map(|r| {
            let u32_at = |i: usize| u32::from_le_bytes(r[i..i + 4].try_into().unwrap());
            let next = i64::from_le_bytes(r[16..24].try_into().unwrap());
            Req {
                time_s: u32_at(0),
                obj_id: u64::from_le_bytes(r[4..12].try_into().unwrap()),
                obj_size: u32_at(12),
                next: if next < 0 { u64::MAX } else { next as u64 },
            }
        })
        .collect()
}

/// Misses of `policy` at `cache` bytes, and the store for inspection.
fn misses(trace: &[Req], policy: Policy, cache: u64) -> (u64, Store<SimValue>) {
    let cfg = Config {
        policy,
        maxmemory: cache,
        memory_model: MemoryModel::Objects,
        ..Config::default()
    };
    let t0 = trace.first().map_or(0, |r| r.time_s as u64);
    let mut store: Store<SimValue> = Store::new(cfg, 1, 1_700_000_000_000_000);
    let mut misses = 0;
    for (i, r) in trace.iter().enumerate() {
        // One µs per request on top of the trace's seconds keeps time moving.
        let now = 1_700_000_000_000_000 + (r.time_s as u64 - t0) * 1_000_000 + i as u64;
        let key = Key {
            id: r.obj_id,
            len: 0,
        };
        // The server cron refreshes the 1-second LRU clock Redis's sampled
        // policies read; once per trace second is enough (no TTLs here).
        if i == 0 || r.time_s != trace[i - 1].time_s {
            store.cron(now);
        }
        let _ = store.begin(now, false);
        if store.get(key).is_none() {
            misses += 1;
            if store.begin(now, true).is_ok() {
                store.set(
                    key,
                    SimValue::Blob(r.obj_size),
                    SetCond::Always,
                    SetTtl::Clear,
                    false,
                );
            }
        }
        store.set_next_use(key.id, r.next);
    }
    (misses, store)
}

/// libCacheSim's `miss_cnt_true` per policy, 128 MiB … 1 GiB.
const LRU: [u64; 8] = [93374, 89783, 83572, 81722, 72494, 72104, 71972, 71704];
const FIFO: [u64; 8] = [93403, 89386, 84387, 84025, 72498, 72228, 72182, 72140];
const BELADY: [u64; 8] = [79256, 70724, 65481, 61594, 59645, 57599, 50873, 48974];
const S3FIFO: [u64; 8] = [89307, 82387, 77041, 76791, 71300, 70343, 70455, 70355];
const SIEVE: [u64; 8] = [91699, 86720, 78578, 76707, 69945, 66221, 64445, 64376];
const LFU: [u64; 8] = [91699, 86720, 78578, 76707, 69945, 66221, 64445, 64376];
const ARC: [u64; 8] = [90252, 85861, 78168, 74297, 67381, 65685, 64439, 64772];
const LHD: [u64; 8] = [90500, 86928, 82211, 77256, 71259, 67001, 63734, 61237];

fn sizes() -> impl Iterator<Item = (usize, u64)> {
    (1..=8u64).map(|k| (k as usize - 1, k * 128 * MIB))
}

fn policy(name: &str) -> Policy {
    Policy::parse(name).unwrap()
}

/// Runs every size, prints ours beside theirs, returns the relative gaps.
fn compare(trace: &[Req], name: &str, expected: &[u64; 8]) -> Vec<f64> {
    let mut gaps = Vec::new();
    for (i, size) in sizes() {
        let (ours, store) = misses(trace, policy(name), size);
        store.validate().unwrap();
        assert!(store.used_memory() <= size);
        let gap = (ours as f64 - expected[i] as f64) / expected[i] as f64;
        println!(
            "{name:<10} {:>5} MiB  ours {ours:>6}  libCacheSim {:>6}  {:+.3} %",
            size / MIB,
            expected[i],
            100.0 * gap
        );
        gaps.push(gap);
    }
    gaps
}

#[test]
fn lru_fifo_and_belady_equal_libcachesim_exactly() {
    let trace = read_trace();
    assert_eq!(trace.len(), 113_872);
    let bytes: u64 = trace.iter().map(|r| r.obj_size as u64).sum();
    assert_eq!(bytes, 4_368_040_448, "libCacheSim's g_req_byte_true");
    for (name, expected) in [("exact-lru", &LRU), ("fifo", &FIFO), ("belady", &BELADY)] {
        let gaps = compare(&trace, name, expected);
        assert!(
            gaps.iter().all(|&g| g == 0.0),
            "{name} differs from libCacheSim"
        );
    }
}

#[test]
fn s3fifo_sieve_arc_and_lfu_equal_libcachesim_exactly() {
    let trace = read_trace();
    for (name, expected) in [
        ("s3-fifo", &S3FIFO),
        ("sieve", &SIEVE),
        ("arc", &ARC),
        ("exact-lfu", &LFU),
    ] {
        let gaps = compare(&trace, name, expected);
        assert!(
            gaps.iter().all(|&g| g == 0.0),
            "{name} differs from libCacheSim"
        );
    }
}

#[test]
fn lhd_is_within_one_percent_of_libcachesim() {
    let trace = read_trace();
    let gaps = compare(&trace, "lhd", &LHD);
    assert!(gaps.iter().all(|g| g.abs() < 0.01), "lhd: {gaps:?}");
}

#[test]
fn w_tinylfu_and_lru2_stay_between_belady_and_fifo() {
    let trace = read_trace();
    for name in ["w-tinylfu", "lru-2"] {
        for (i, size) in sizes() {
            let (m, store) = misses(&trace, policy(name), size);
            store.validate().unwrap();
            println!(
                "{name:<10} {:>5} MiB  ours {m:>6}  (libCacheSim: no expectation)",
                size / MIB
            );
            assert!(
                BELADY[i] <= m && m <= FIFO[i].max(LRU[i]),
                "{name} at {size}: {m}"
            );
        }
    }
}

#[test]
fn redis_policies_run_under_the_objects_model() {
    let trace = read_trace();
    let size = 512 * MIB;
    for name in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
        let (m, store) = misses(&trace, policy(name), size);
        store.validate().unwrap();
        println!(
            "{name:<14} 512 MiB  misses {m}  (exact-lru {}, belady {})",
            LRU[3], BELADY[3]
        );
        assert!(m >= BELADY[3], "{name} beats the optimum");
        assert!(store.used_memory() <= size);
        assert!(store.stats().evicted_keys > 0);
    }
}
