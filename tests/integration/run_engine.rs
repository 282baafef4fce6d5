//! Engine tests that would catch a wrong engine: Little's law for sessions,
//! exact miss counts for cache-aside, the rate limiter's truth, and
//! record + replay giving the same metrics.

use std::collections::HashMap;

use ttlsim::metrics::RunResult;
use ttlsim::sim::{self, RunSpec, Source};
use ttlsim::workload::parse_workload;

fn spec(src: &str) -> RunSpec {
    RunSpec::new(parse_workload(src, "test.toml").unwrap_or_else(|e| panic!("{e}")))
}

fn num(r: &RunResult, c: &str) -> f64 {
    r.num(c).unwrap_or_else(|| panic!("no column {c}"))
}

/// Runs a spec while recording its trace; returns the result and the rows.
fn record(spec: &RunSpec) -> (RunResult, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let (r, _) = sim::record_to_path(spec, &path).unwrap();
    (r, std::fs::read_to_string(&path).unwrap())
}

#[test]
fn sessions_obey_littles_law() {
    let r = sim::run(&spec(
        r#"
name = "little"
duration = "40m"
warmup = "10m"
[[pattern]]
kind = "sessions"
namespace = "session"
logins = { kind = "poisson", rate = 20.0 }
ttl = "60s"
think_time = { kind = "exponential", mean = "20s" }
requests = 3.0
logout = 0.3
value_size = { kind = "fixed", bytes = 300 }
"#,
    ))
    .unwrap();
    let l = num(&r, "session_keys_mean");
    let lambda = num(&r, "session_created_per_s");
    let w = num(&r, "session_residence_mean_s");
    let rel = (l - lambda * w).abs() / l;
    assert!(l > 1000.0, "{l}");
    assert!(
        rel < 0.03,
        "L = {l}, λW = {lambda} × {w} = {} ({:.2}% off)",
        lambda * w,
        rel * 100.0
    );
    assert_eq!(num(&r, "evicted_keys"), 0.0);
    assert!(num(&r, "session_expired_idle") > 0.0);
}

const CACHE: &str = r#"
name = "cache"
duration = "60s"
[[pattern]]
kind = "cache-aside"
namespace = "cache"
keys = 3000
popularity = { kind = "zipf", s = 0.9 }
value_size = { kind = "lognormal", median = 300, sigma = 0.5 }
arrival = { kind = "poisson", rate = 500.0 }
"#;

#[test]
fn cache_without_limit_or_ttl_misses_once_per_key() {
    let (r, trace) = record(&spec(CACHE));
    let keys: std::collections::HashSet<&str> = trace
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert!(keys.len() > 1000);
    assert_eq!(num(&r, "evicted_keys"), 0.0);
    assert_eq!(num(&r, "misses_cold"), keys.len() as f64);
    assert_eq!(num(&r, "misses"), keys.len() as f64);
    // A request is a GET (a read); a miss's fill is a command, not a request.
    assert_eq!(num(&r, "requests"), num(&r, "hits") + num(&r, "misses"));
    assert_eq!(
        num(&r, "commands"),
        num(&r, "hits") + 2.0 * num(&r, "misses")
    );
}

#[test]
fn cache_with_ttl_misses_expired_as_the_requests_say() {
    let src = format!("{CACHE}ttl = \"5s\"\nttl_jitter = \"2s\"\n");
    let (r, trace) = record(&spec(&src));
    // Replay the request sequence by hand: Redis expires a key once the
    // clock is past its expire time (now > expire_at).
    let mut expire_at: HashMap<&str, u64> = HashMap::new();
    let (mut cold, mut expired) = (0, 0);
    for line in trace.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[1], "get", "{line}");
        let (t, ttl): (u64, u64) = (f[0].parse().unwrap(), f[4].parse().unwrap());
        let fill = match expire_at.get(f[2]) {
            None => {
                cold += 1;
                true
            }
            Some(&at) if t > at => {
                expired += 1;
                true
            }
            Some(_) => false,
        };
        if fill {
            expire_at.insert(f[2], t + ttl);
        }
    }
    assert!(expired > 1000, "{expired}");
    assert_eq!(num(&r, "misses_expired"), expired as f64);
    assert_eq!(num(&r, "misses_cold"), cold as f64);
    assert_eq!(num(&r, "evicted_keys"), 0.0);
    assert_eq!(
        num(&r, "expired_keys"),
        num(&r, "expired_lazy") + num(&r, "expired_active")
    );
}

const RATE: &str = r#"
name = "rl"
duration = "90s"
[server]
maxmemory = "0"
maxmemory-policy = "allkeys-random"
[[pattern]]
kind = "rate-limit"
namespace = "rl"
users = 3000
popularity = { kind = "zipf", s = 1.1 }
arrival = { kind = "poisson", rate = 600.0 }
limit = 20
window = "10s"
"#;

#[test]
fn rate_limiter_is_exact_without_eviction_and_leaks_with_it() {
    let r = sim::run(&spec(RATE)).unwrap();
    assert!(num(&r, "rl_denied") > 1000.0, "the limit must bite");
    assert_eq!(num(&r, "evicted_keys"), 0.0);
    assert_eq!(num(&r, "rl_wrongly_allowed"), 0.0);
    assert_eq!(num(&r, "rl_wrongly_denied"), 0.0);

    let pressed = RATE.replace("maxmemory = \"0\"", "maxmemory = \"940kb\"");
    let r = sim::run(&spec(&pressed)).unwrap();
    assert!(num(&r, "evicted_keys") > 100.0);
    assert!(num(&r, "rl_wrongly_allowed") > 0.0);
}

const MIXED: &str = r#"
name = "mixed_small"
duration = "3m"
warmup = 5000
seed = 7
[server]
maxmemory = "1200kb"
maxmemory-policy = "allkeys-lru"
[[pattern]]
kind = "sessions"
namespace = "session"
logins = { kind = "poisson", rate = 5.0 }
ttl = "60s"
think_time = { kind = "exponential", mean = "10s" }
requests = 4.0
logout = 0.3
refresh = "getex"
value_size = { kind = "lognormal", median = 300, sigma = 0.3 }
[[pattern]]
kind = "tokens"
namespace = "verify"
campaigns = { kind = "bursts", at = ["10s", "100s"], count = 500, spread = "5s" }
ttl = "40s"
redeem_fraction = 0.5
redeem_delay = { kind = "exponential", mean = "20s" }
value_size = { kind = "uniform", min = 12, max = 40 }
[[pattern]]
kind = "rate-limit"
namespace = "rl"
users = 500
popularity = { kind = "zipf", s = 1.0 }
arrival = { kind = "poisson", rate = 100.0 }
limit = 10
window = "10s"
[[pattern]]
kind = "cache-aside"
namespace = "cache"
keys = 2000
popularity = { kind = "zipf", s = 0.9 }
value_size = { kind = "lognormal", median = 400, sigma = 0.5 }
arrival = { kind = "poisson", rate = 200.0 }
ttl = "30s"
ttl_jitter = "5s"
[[pattern]]
kind = "locks"
namespace = "lock"
resources = 100
popularity = { kind = "uniform" }
arrival = { kind = "poisson", rate = 20.0 }
hold = { kind = "exponential", mean = "500ms" }
ttl = "2s"
[[pattern]]
kind = "persistent"
namespace = "user"
keys = 1000
popularity = { kind = "uniform" }
arrival = { kind = "poisson", rate = 30.0 }
value_size = { kind = "fixed", bytes = 500 }
write_fraction = 0.1
expire_fraction = 0.05
persist_fraction = 0.05
expire_ttl = "20s"
"#;

#[test]
fn recorded_trace_replays_to_the_same_metrics() {
    // At 1 s, samples fall on cron ticks; at 150 ms most do not, so a
    // replay that ran its records past a sample (or a tick) would differ.
    for interval_us in [1_000_000, 150_000] {
        replays_to_the_same_metrics(interval_us);
    }
}

fn replays_to_the_same_metrics(interval_us: u64) {
    let mut gen = spec(MIXED);
    gen.sample_interval = ttlsim::units::Dur(interval_us);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.csv");
    let (a, rows) = sim::record_to_path(&gen, &path).unwrap();
    assert!(rows > 10_000);
    let mut replay = gen.clone();
    replay.source = Source::Trace(ttlsim::workload::replay::TraceInput::new(path));
    let b = sim::run(&replay).unwrap();
    // One trace row per client request; fills are folded into GET rows.
    assert_eq!(rows, a.sim_requests);
    assert_eq!(a.sim_ops, b.sim_ops);
    assert_eq!(a.sim_requests, b.sim_requests);
    assert!(
        num(&a, "evicted_keys") > 100.0,
        "the test needs memory pressure"
    );
    let metrics_start = a.columns.iter().position(|(c, _)| c == "requests").unwrap();
    let mut compared = 0;
    for (c, v) in &a.columns[metrics_start..] {
        if let Some(w) = b.get(c) {
            assert_eq!(v, w, "column {c}");
            compared += 1;
        }
    }
    assert!(compared > 60, "{compared}");
    for c in [
        "requests",
        "hits",
        "misses_evicted",
        "evicted_keys",
        "used_memory_mean",
        "expiry_lag_p99_ms",
        "session_hit_ratio",
        "cache_keys_mean",
    ] {
        assert_eq!(a.get(c), b.get(c), "{c}");
    }
    assert_eq!(a.latency, b.latency);
    for m in ["used_memory", "keys", "hits", "misses", "evictions"] {
        let (x, y) = (a.timeseries.series(m, ""), b.timeseries.series(m, ""));
        assert!(x.is_some_and(|x| x.len() > 50), "{m}: {x:?}");
        assert_eq!(x, y, "{m} every {interval_us} µs");
    }
}

#[test]
fn a_replay_that_outgrows_its_memory_limit_stops_with_the_file_and_position() {
    use std::fmt::Write;
    use ttlsim::limits::MemoryLimit;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many_keys.csv");
    let mut text = String::from(ttlsim::workload::trace::ttlsim::HEADER);
    text.push('\n');
    for i in 0..70_000u64 {
        writeln!(text, "{},get,k:{i},100,0", i / 100).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    let mut s = spec(CACHE);
    let mut input = ttlsim::workload::replay::TraceInput::new(&path);
    input.memory = MemoryLimit::Bytes(1);
    s.source = Source::Trace(input.clone());
    s.workload.duration = None;
    let e = format!("{:#}", sim::run(&s).unwrap_err());
    assert!(
        e.contains("many_keys.csv: after 65535 records replayed: the replay's memory has grown to"),
        "{e}"
    );
    assert!(e.ends_with("or give --force"), "{e}");
    // --force: no limit, the whole trace replays.
    input.memory = MemoryLimit::Unlimited;
    s.source = Source::Trace(input);
    let r = sim::run(&s).unwrap();
    assert_eq!(num(&r, "requests"), 70_000.0);
}
