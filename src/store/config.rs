//! Server settings the model has, by Redis's own config names, with Redis's
//! defaults, ranges and `CONFIG SET` error texts (src/config.c, 7.0).

use super::evict::REGISTRY;
use super::memory::parse_memory;
use std::fmt;

/// `maxmemory-policy`: Redis's eight policies plus reference policies that
/// Redis does not have, one per entry of the registry
/// ([`REGISTRY`]): exact LRU/LFU, FIFO, Belady,
/// S3-FIFO, SIEVE, ARC, W-TinyLFU, LHD, LRU-2.
///
/// The reference policies are `Reference(i)`, `i` indexing the registry; the
/// first four also have names as constants ([`Policy::ExactLru`],
/// [`Policy::ExactLfu`], [`Policy::Fifo`], [`Policy::Belady`]), usable in
/// patterns.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Refuse writes (OOM) instead of evicting.
    NoEviction,
    /// Approximated LRU over all keys (sampled, 16-entry pool).
    AllKeysLru,
    /// Approximated LFU over all keys.
    AllKeysLfu,
    /// A random key (`dictGetRandomKey`).
    AllKeysRandom,
    /// Approximated LRU over keys with a TTL.
    VolatileLru,
    /// Approximated LFU over keys with a TTL.
    VolatileLfu,
    /// A random key with a TTL.
    VolatileRandom,
    /// The sampled key with the nearest expire time.
    VolatileTtl,
    /// Reference, not Redis: entry `i` of the registry, evicting among all
    /// keys.
    Reference(u8),
}

/// Number of reference policies in the registry.
const N_REFERENCE: usize = REGISTRY.len();

#[allow(non_upper_case_globals)]
impl Policy {
    /// Reference, not Redis: the least recently used key, exactly.
    pub const ExactLru: Policy = Policy::Reference(0);
    /// Reference, not Redis: the least frequently used key (exact access
    /// count, ties broken by age), exactly.
    pub const ExactLfu: Policy = Policy::Reference(1);
    /// Reference, not Redis: the oldest written key.
    pub const Fifo: Policy = Policy::Reference(2);
    /// Reference, not Redis: Belady's optimum, the key whose next use is
    /// farthest in the future. Needs the future: the driver must tell the
    /// store each key's next use ([`Store::set_next_use`](super::Store::set_next_use)),
    /// as trace replay can.
    pub const Belady: Policy = Policy::Reference(3);

    /// Redis's eight policies, in the order Redis documents them.
    pub const REDIS: [Policy; 8] = [
        Policy::NoEviction,
        Policy::AllKeysLru,
        Policy::AllKeysLfu,
        Policy::AllKeysRandom,
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
    ];

    /// The reference policies that are not Redis's, in registry order.
    pub const REFERENCE: [Policy; N_REFERENCE] = {
        let mut all = [Policy::NoEviction; N_REFERENCE];
        let mut i = 0;
        while i < N_REFERENCE {
            all[i] = Policy::Reference(i as u8);
            i += 1;
        }
        all
    };

    /// Every policy the model accepts: Redis's, then the references.
    pub const ALL: [Policy; 8 + N_REFERENCE] = {
        let mut all = [Policy::NoEviction; 8 + N_REFERENCE];
        let mut i = 0;
        while i < 8 + N_REFERENCE {
            all[i] = if i < 8 {
                Policy::REDIS[i]
            } else {
                Policy::REFERENCE[i - 8]
            };
            i += 1;
        }
        all
    };

    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            Policy::NoEviction => "noeviction",
            Policy::AllKeysLru => "allkeys-lru",
            Policy::AllKeysLfu => "allkeys-lfu",
            Policy::AllKeysRandom => "allkeys-random",
            Policy::VolatileLru => "volatile-lru",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
            Policy::Reference(i) => REGISTRY.get(i as usize).map_or("unknown", |r| r.name),
        }
    }

    /// Parses a config name (case-insensitive, as Redis does).
    pub fn parse(s: &str) -> Result<Policy, String> {
        let lower = s.to_ascii_lowercase();
        Policy::ALL
            .into_iter()
            .find(|p| p.name() == lower)
            .ok_or_else(|| {
                format!(
                    "unknown maxmemory-policy '{s}'; valid: {}",
                    Policy::ALL.map(|p| p.name()).join(", ")
                )
            })
    }

    /// Evicts among all keys (`MAXMEMORY_FLAG_ALLKEYS`), or only volatile ones.
    pub fn all_keys(self) -> bool {
        !matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    /// Uses the LFU counter in the object's 24-bit field (`MAXMEMORY_FLAG_LFU`).
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    /// `MAXMEMORY_FLAG_NO_SHARED_INTEGERS`: LRU and LFU policies need a private
    /// object per value.
    pub fn no_shared_integers(self) -> bool {
        matches!(
            self,
            Policy::AllKeysLru | Policy::AllKeysLfu | Policy::VolatileLru | Policy::VolatileLfu
        )
    }

    /// Which of Redis's policies behave alike until the store first has to
    /// free memory: before that, a policy decides only whether values may
    /// share integer objects ([`Policy::no_shared_integers`], which changes
    /// `used_memory`) and which LRU/LFU field each key keeps (which nothing
    /// shows but eviction and OBJECT). So the four that share integers
    /// (noeviction, the random ones, volatile-ttl) are one class (`false`)
    /// and the four LRU/LFU ones the other (`true`). `None` for a
    /// reference policy, whose own bookkeeping may act before memory runs
    /// out (admission). See [`super::Store::policy_used`].
    pub fn alike_until_eviction(self) -> Option<bool> {
        match self {
            Policy::Reference(_) => None,
            _ => Some(self.no_shared_integers()),
        }
    }

    /// True for the reference policies that are not Redis's.
    pub fn is_reference(self) -> bool {
        matches!(self, Policy::Reference(i) if (i as usize) < N_REFERENCE)
    }

    /// True for a policy that evicts by each key's next use, which only a
    /// driver that knows the future (a trace replay) can supply.
    pub fn needs_future(self) -> bool {
        match self {
            Policy::Reference(i) => REGISTRY.get(i as usize).is_some_and(|r| r.needs_future),
            _ => false,
        }
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::Reference(i) => write!(f, "Reference({i}: {})", self.name()),
            _ => write!(f, "{}", self.name()),
        }
    }
}

/// What `maxmemory` is compared with (`memory-model`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MemoryModel {
    /// Redis's `used_memory`: allocator size classes, object headers, dict
    /// entries and bucket arrays, baseline and client memory
    /// ([`memory`](super::memory)).
    #[default]
    Redis,
    /// Only the sizes given: key length + value size per key, no overheads,
    /// as libCacheSim and the literature count capacity. A new key makes
    /// room for itself before it is written; one larger than `maxmemory` is
    /// not stored.
    Objects,
}

impl MemoryModel {
    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            MemoryModel::Redis => "redis",
            MemoryModel::Objects => "objects",
        }
    }

    /// Parses a config name (case-insensitive).
    pub fn parse(s: &str) -> Option<MemoryModel> {
        match s.to_ascii_lowercase().as_str() {
            "redis" => Some(MemoryModel::Redis),
            "objects" => Some(MemoryModel::Objects),
            _ => None,
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Modelled CPU cost of server work, used to time the active expire cycle and
/// eviction against their budgets.
///
/// The expiry defaults were fitted to `expire_cycle_cpu_milliseconds` of a
/// real Debian redis-server 7.0.15 on this project's 2-core machine during the
/// 200,000-key expiry storm (tests/data/storm_redis_summary.csv): Redis spent
/// 176 / 311 / 255 / 444 ms at hz 10 effort 1 / hz 10 effort 10 / hz 100
/// effort 1 / hz 100 effort 10 while examining 0.46 / 1.5 / 0.62 / 2.3 M
/// entries to reclaim 200,000 keys; a least-squares fit gives about 120 ns an
/// examined entry and 600 ns a deletion, and the model then spends 187 / 348
/// / 209 / 469 ms. Eviction's 1.5 µs per key is an estimate (sampling five
/// keys, pool insertion, delete), only compared with the tenacity budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostModel {
    /// Nanoseconds to examine one entry of the expires table.
    pub expire_examine_ns: u64,
    /// Extra nanoseconds to delete one expired key (free, notify, propagate).
    pub expire_delete_ns: u64,
    /// Nanoseconds to visit one bucket of the expires table.
    pub expire_bucket_ns: u64,
    /// Nanoseconds per evicted key (sampling, pool, delete).
    pub evict_ns: u64,
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel {
            expire_examine_ns: 120,
            expire_delete_ns: 600,
            expire_bucket_ns: 10,
            evict_ns: 1500,
        }
    }
}

/// The settings of one modelled server.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `hz`: cron ticks per second (1..500).
    pub hz: u32,
    /// `active-expire-effort` (1..10).
    pub active_expire_effort: u32,
    /// `maxmemory` in bytes; 0 means no limit.
    pub maxmemory: u64,
    /// `maxmemory-policy`.
    pub policy: Policy,
    /// `maxmemory-samples`.
    pub samples: u32,
    /// `maxmemory-eviction-tenacity` (0..100).
    pub eviction_tenacity: u32,
    /// `lfu-log-factor`.
    pub lfu_log_factor: u32,
    /// `lfu-decay-time` in minutes (0: no decay).
    pub lfu_decay_time: u32,
    /// Memory of a fresh server before any key (`used_memory` baseline).
    pub baseline_memory: u64,
    /// Memory held by client connections (buffers), counted against maxmemory
    /// (default: one client, as a fresh server with one connection reports).
    pub client_memory: u64,
    /// Modelled CPU costs.
    pub cost: CostModel,
    /// `memory-model` (not Redis's): what `maxmemory` is compared with.
    pub memory_model: MemoryModel,
    /// Not Redis's: the key sample rate of a miniature (`plan`; 1 at full
    /// size). The slow active expire cycle runs on one cron tick in
    /// `1/rate`, with the full-size server's time budget, so each cycle
    /// meets as many expired keys as the full server's does and walks the
    /// same share of its `rate`-times-smaller table per second: stale memory
    /// and expiry lag keep their full-size values instead of shrinking with
    /// the keys. (The LRU clock and incremental rehashing keep every tick.)
    pub miniature_rate: f64,
}

impl Config {
    /// The slow active expire cycle runs on one cron tick in this many
    /// (`1/miniature_rate`, 1 at full size).
    pub fn slow_expire_every(&self) -> u64 {
        let r = self.miniature_rate;
        if r > 0.0 && r < 1.0 {
            ((1.0 / r).round() as u64).max(1)
        } else {
            1
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hz: 10,
            active_expire_effort: 1,
            maxmemory: 0,
            policy: Policy::NoEviction,
            samples: 5,
            eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            baseline_memory: super::memory::DEFAULT_BASELINE,
            client_memory: super::memory::ONE_CLIENT,
            cost: CostModel::default(),
            memory_model: MemoryModel::Redis,
            miniature_rate: 1.0,
        }
    }
}

/// Why [`Config::set`] refused a setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The model has no setting of this name.
    UnknownName,
    /// The value is not valid for the setting; the reason is Redis's text
    /// (`argument must be between 1 and 10 inclusive`, ...).
    BadValue(String),
}

impl From<String> for ConfigError {
    fn from(reason: String) -> Self {
        ConfigError::BadValue(reason)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::UnknownName => f.write_str("unknown setting"),
            ConfigError::BadValue(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The settings that act only when the store must free memory (which
/// policy, how it samples, how long it tries, how LFU counts): runs that
/// differ only in these, within one class of
/// [`Policy::alike_until_eviction`], are the same run until one of them
/// first finds memory over `maxmemory`.
pub const EVICTION_ONLY_SETTINGS: [&str; 5] = [
    "maxmemory-policy",
    "maxmemory-samples",
    "maxmemory-eviction-tenacity",
    "lfu-log-factor",
    "lfu-decay-time",
];

/// Names `CONFIG GET` knows, in the order it lists them (`memory-model` is
/// the model's own, not Redis's).
pub const NAMES: [&str; 9] = [
    "hz",
    "active-expire-effort",
    "maxmemory",
    "maxmemory-policy",
    "maxmemory-samples",
    "maxmemory-eviction-tenacity",
    "lfu-log-factor",
    "lfu-decay-time",
    "memory-model",
];

fn parse_int(value: &str, min: i64, max: i64) -> Result<i64, String> {
    let v: i64 = value
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if v < min || v > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(v)
}

impl Config {
    /// `CONFIG GET name`: the value as Redis prints it, or `None` for a name
    /// the model does not have.
    pub fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "hz" => self.hz.to_string(),
            "active-expire-effort" => self.active_expire_effort.to_string(),
            "maxmemory" => self.maxmemory.to_string(),
            "maxmemory-policy" => self.policy.name().to_string(),
            "maxmemory-samples" => self.samples.to_string(),
            "maxmemory-eviction-tenacity" => self.eviction_tenacity.to_string(),
            "lfu-log-factor" => self.lfu_log_factor.to_string(),
            "lfu-decay-time" => self.lfu_decay_time.to_string(),
            "memory-model" => self.memory_model.name().to_string(),
            _ => return None,
        })
    }

    /// `CONFIG SET name value` with Redis's ranges and reasons.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let max = i32::MAX as i64;
        match name.to_ascii_lowercase().as_str() {
            // updateHZ clamps to CONFIG_MIN_HZ..CONFIG_MAX_HZ.
            "hz" => self.hz = parse_int(value, 0, max)?.clamp(1, 500) as u32,
            "active-expire-effort" => self.active_expire_effort = parse_int(value, 1, 10)? as u32,
            "maxmemory" => {
                self.maxmemory = parse_memory(value)
                    .ok_or_else(|| "argument must be a memory value".to_string())?
            }
            "maxmemory-policy" => {
                self.policy = Policy::parse(value).map_err(|_| {
                    format!(
                        "argument(s) must be one of the following: {}",
                        Policy::ALL.map(|p| p.name()).join(", ")
                    )
                })?
            }
            "maxmemory-samples" => self.samples = parse_int(value, 1, max)? as u32,
            "maxmemory-eviction-tenacity" => {
                self.eviction_tenacity = parse_int(value, 0, 100)? as u32
            }
            "lfu-log-factor" => self.lfu_log_factor = parse_int(value, 0, max)? as u32,
            "lfu-decay-time" => self.lfu_decay_time = parse_int(value, 0, max)? as u32,
            "memory-model" => {
                self.memory_model = MemoryModel::parse(value).ok_or_else(|| {
                    "argument(s) must be one of the following: redis, objects".to_string()
                })?
            }
            _ => return Err(ConfigError::UnknownName),
        }
        Ok(())
    }

    /// [`Config::set`] for workload files and command-line flags: a value
    /// Redis would silently clamp (`hz` outside 1..500) is refused instead, so
    /// a simulation never runs with a setting other than the one asked for.
    pub fn set_strict(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        if name.eq_ignore_ascii_case("hz") {
            parse_int(value, 1, 500)?;
        }
        self.set(name, value)
    }

    /// `activeExpireCycle`'s effort-scaled constants.
    pub fn expire_params(&self) -> ExpireParams {
        let e = (self.active_expire_effort.clamp(1, 10) - 1) as u64;
        ExpireParams {
            keys_per_loop: 20 + 20 / 4 * e,
            fast_duration_us: 1000 + 1000 / 4 * e,
            slow_time_perc: 25 + 2 * e,
            acceptable_stale: 10 - e,
        }
    }

    /// `evictionTimeLimitUs`: the time eviction may spend per call.
    pub fn eviction_time_limit_us(&self) -> Option<u64> {
        let t = self.eviction_tenacity;
        if t <= 10 {
            Some(50 * t as u64)
        } else if t < 100 {
            Some((500.0 * 1.15f64.powi(t as i32 - 10)) as u64)
        } else {
            None
        }
    }
}

/// The active expire cycle's parameters after effort scaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpireParams {
    /// Keys sampled per loop (20 + 5·e).
    pub keys_per_loop: u64,
    /// Fast cycle budget in µs (1000 + 250·e).
    pub fast_duration_us: u64,
    /// Slow cycle CPU percentage (25 + 2·e).
    pub slow_time_perc: u64,
    /// Repeat a DB while more than this percentage of samples expired (10 − e).
    pub acceptable_stale: u64,
}

/// Matches a Redis glob pattern with `*` and `?` (enough for `CONFIG GET`).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    // Iterative, backtracking only to the last `*`: linear for most
    // patterns and at most |pattern|·|name| steps, where the recursive form
    // was exponential in the number of stars (`CONFIG GET *****…*9` hung,
    // as Redis's own stringmatch did before CVE-2022-36021).
    let (p, s) = (pattern.as_bytes(), name.as_bytes());
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < s.len() {
        if i < p.len() && p[i] == b'*' {
            star = Some((i, j));
            i += 1;
        } else if i < p.len() && (p[i] == b'?' || p[i].eq_ignore_ascii_case(&s[j])) {
            i += 1;
            j += 1;
        } else if let Some((si, sj)) = star {
            // The last star takes one more byte.
            star = Some((si, sj + 1));
            i = si + 1;
            j = sj + 1;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effort_scaling_matches_expire_c() {
        let mut c = Config::default();
        assert_eq!(
            c.expire_params(),
            ExpireParams {
                keys_per_loop: 20,
                fast_duration_us: 1000,
                slow_time_perc: 25,
                acceptable_stale: 10
            }
        );
        c.active_expire_effort = 10;
        assert_eq!(
            c.expire_params(),
            ExpireParams {
                keys_per_loop: 65,
                fast_duration_us: 3250,
                slow_time_perc: 43,
                acceptable_stale: 1
            }
        );
    }

    #[test]
    fn config_set_ranges() {
        let mut c = Config::default();
        c.set("hz", "1000").unwrap();
        assert_eq!(c.get("hz").unwrap(), "500");
        assert!(c.set_strict("hz", "1000").is_err());
        assert!(c.set_strict("hz", "0").is_err());
        c.set_strict("hz", "100").unwrap();
        assert_eq!(c.hz, 100);
        assert_eq!(
            c.set("active-expire-effort", "11"),
            Err(ConfigError::BadValue(
                "argument must be between 1 and 10 inclusive".into()
            ))
        );
        assert_eq!(c.set("nope", "1"), Err(ConfigError::UnknownName));
        c.set("maxmemory", "1mb").unwrap();
        assert_eq!(c.maxmemory, 1 << 20);
        c.set("maxmemory-policy", "ALLKEYS-LRU").unwrap();
        assert_eq!(c.policy, Policy::AllKeysLru);
        assert_eq!(c.eviction_time_limit_us(), Some(500));
    }

    #[test]
    fn unknown_policy_lists_valid_ones() {
        let err = Policy::parse("lru").unwrap_err();
        assert!(err.contains("allkeys-lru") && err.contains("volatile-ttl"));
    }

    #[test]
    fn registry_names_parse_back_and_fixed_indices_hold() {
        for p in Policy::ALL {
            assert_eq!(Policy::parse(p.name()), Ok(p));
        }
        assert_eq!(Policy::ExactLru.name(), "exact-lru");
        assert_eq!(Policy::ExactLfu.name(), "exact-lfu");
        assert_eq!(Policy::Fifo.name(), "fifo");
        assert_eq!(Policy::Belady.name(), "belady");
        assert!(Policy::Belady.needs_future() && Policy::Belady.is_reference());
        assert!(!Policy::AllKeysLru.is_reference() && !Policy::Reference(200).is_reference());
        assert_eq!(Policy::Reference(200).name(), "unknown");
        for (i, reg) in REGISTRY.iter().enumerate() {
            let p = (reg.make)(&super::super::PolicyParams {
                capacity: 1 << 20,
                seed: 1,
            });
            assert_eq!(p.name(), reg.name, "registry entry {i}");
            assert_eq!(p.needs_future(), reg.needs_future);
        }
    }

    #[test]
    fn memory_model_is_a_config_setting() {
        let mut c = Config::default();
        assert_eq!(c.get("memory-model").as_deref(), Some("redis"));
        c.set("memory-model", "OBJECTS").unwrap();
        assert_eq!(c.memory_model, MemoryModel::Objects);
        assert!(c.set("memory-model", "bytes").is_err());
    }

    #[test]
    fn globs() {
        assert!(glob_match("maxmemory*", "maxmemory-policy"));
        assert!(glob_match("h?", "hz"));
        assert!(!glob_match("hz", "hzz"));
        // Many stars before a byte that never comes: no exponential search.
        let hostile = format!("{}9", "*".repeat(40));
        assert!(!glob_match(&hostile, "active-expire-effort-active-expire"));
        // The same answers as the plain recursive definition.
        fn slow(p: &[u8], s: &[u8]) -> bool {
            match (p.first(), s.first()) {
                (None, None) => true,
                (Some(b'*'), _) => slow(&p[1..], s) || (!s.is_empty() && slow(p, &s[1..])),
                (Some(b'?'), Some(_)) => slow(&p[1..], &s[1..]),
                (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => slow(&p[1..], &s[1..]),
                _ => false,
            }
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut pick = |alphabet: &[u8], max: u64| -> String {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = x % max;
            (0..n)
                .map(|k| alphabet[((x >> (k * 3)) % alphabet.len() as u64) as usize] as char)
                .collect()
        };
        for _ in 0..20_000 {
            let p = pick(b"ab*?A", 8);
            let s = pick(b"abB", 9);
            assert_eq!(
                glob_match(&p, &s),
                slow(p.as_bytes(), s.as_bytes()),
                "{p:?} {s:?}"
            );
        }
    }
}
