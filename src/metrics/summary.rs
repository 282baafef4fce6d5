//! The readable summary `ttlsim run` prints.

use super::result::RunResult;

/// Per-namespace columns every namespace has (after `<ns>_`).
pub const NS_COLUMNS: [&str; 12] = [
    "hit_ratio",
    "requests",
    "hits",
    "misses",
    "misses_expired",
    "misses_evicted",
    "evicted_keys",
    "expired_keys",
    "oom_rejections",
    "keys_mean",
    "created_per_s",
    "residence_mean_s",
];

fn thousands(v: f64) -> String {
    if v.fract() != 0.0 || v.abs() >= 1e15 {
        return format!("{v:.3}");
    }
    let s = format!("{}", v.abs() as u64);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

fn bytes(v: f64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if v >= MIB {
        format!("{:.1} MiB", v / MIB)
    } else if v >= 1024.0 {
        format!("{:.1} KiB", v / 1024.0)
    } else {
        format!("{v:.0} B")
    }
}

/// The summary table of a run, ending with the simulation speed.
pub fn summary(r: &RunResult) -> String {
    // Columns by name, once: a run may have thousands of namespaces, and a
    // lookup per figure by scanning the row would grow as their square.
    let index: rustc_hash::FxHashMap<&str, &str> = r
        .columns
        .iter()
        .map(|(c, v)| (c.as_str(), v.as_str()))
        .collect();
    let get = |c: &str| index.get(c).copied();
    let num = |c: &str| get(c).and_then(|v| v.parse::<f64>().ok());
    let s = |c: &str| get(c).unwrap_or("?").to_string();
    let n = |c: &str| num(c).unwrap_or(0.0);
    // A ratio with no reads is an empty cell: shown as "-", not 0.
    let ratio = |c: &str| num(c).map_or("-".to_string(), |v| format!("{v:.4}"));
    let mut out = String::new();
    let mut line = |l: String| {
        out.push_str(&l);
        out.push('\n');
    };
    let maxmemory = if n("maxmemory") == 0.0 {
        "no maxmemory".to_string()
    } else {
        format!("maxmemory {}", bytes(n("maxmemory")))
    };
    line(format!(
        "ttlsim run `{}`: {:.0} s simulated (warm-up {}), seed {}; {maxmemory}, {}, samples {}, hz {}",
        s("workload"),
        n("duration_ms") / 1000.0,
        match (n("warmup_ms"), n("warmup_requests")) {
            (ms, _) if ms > 0.0 => crate::units::Dur(ms as u64 * 1000).to_string(),
            (_, r) if r > 0.0 => format!("{r} requests"),
            _ => "none".to_string(),
        },
        s("seed"),
        s("maxmemory_policy"),
        s("maxmemory_samples"),
        s("hz"),
    ));
    line(String::new());
    let row = |k: &str, v: String| format!("  {k:<16} {v}");
    line(row(
        "requests",
        format!(
            "{} client requests; reads {} = hits {} + misses {}",
            thousands(n("requests")),
            thousands(n("hits") + n("misses")),
            thousands(n("hits")),
            thousands(n("misses"))
        ),
    ));
    line(row(
        "commands",
        format!(
            "{} sent to the store = requests + {} cache fills",
            thousands(n("commands")),
            thousands(n("commands") - n("requests"))
        ),
    ));
    line(row(
        "hit ratio",
        format!(
            "{}   misses: cold {}, expired {}, evicted {}",
            ratio("hit_ratio"),
            thousands(n("misses_cold")),
            thousands(n("misses_expired")),
            thousands(n("misses_evicted"))
        ),
    ));
    line(row(
        "evictions",
        format!(
            "{} ({} before their TTL ran out)   OOM rejections {}",
            thousands(n("evicted_keys")),
            thousands(n("evicted_premature")),
            thousands(n("oom_rejections"))
        ),
    ));
    line(row(
        "expirations",
        format!(
            "{} (lazy {}, active {}); never reclaimed at the end: {}",
            thousands(n("expired_keys")),
            thousands(n("expired_lazy")),
            thousands(n("expired_active")),
            thousands(n("never_reclaimed_keys"))
        ),
    ));
    line(row(
        "used memory",
        format!(
            "mean {}, p99 {}, peak {}; live data mean {}",
            bytes(n("used_memory_mean")),
            bytes(n("used_memory_p99")),
            bytes(n("used_memory_peak")),
            bytes(n("live_memory_mean"))
        ),
    ));
    line(row(
        "stale memory",
        format!(
            "mean {}, peak {} ({} expired keys still resident at peak)",
            bytes(n("stale_memory_mean")),
            bytes(n("stale_memory_peak")),
            thousands(n("stale_keys_peak"))
        ),
    ));
    line(row(
        "expiry lag",
        format!(
            "mean {:.1} ms, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            n("expiry_lag_mean_ms"),
            n("expiry_lag_p50_ms"),
            n("expiry_lag_p99_ms"),
            n("expiry_lag_max_ms")
        ),
    ));
    line(row(
        "server blocked",
        format!(
            "longest {:.2} ms, {:.3} ms per s; expire cycles at the time cap: {}",
            n("blocked_ms_max"),
            n("blocked_ms_per_s"),
            thousands(n("expire_time_cap_reached"))
        ),
    ));
    let namespaces: Vec<String> = r
        .columns
        .iter()
        .filter_map(|(c, _)| c.strip_suffix("_hit_ratio"))
        .map(str::to_string)
        .collect();
    if !namespaces.is_empty() {
        line(String::new());
        line(format!(
            "  {:<14} {:>11} {:>9} {:>11} {:>11} {:>11}  outcomes",
            "namespace", "requests", "hit ratio", "evicted", "expired", "keys (mean)"
        ));
        // Each column belongs to the namespace that is its longest prefix
        // (`page_ts_hits` is `page_ts`'s, not `page`'s).
        let known: rustc_hash::FxHashSet<&str> = namespaces.iter().map(String::as_str).collect();
        let mut outcomes_of: rustc_hash::FxHashMap<&str, Vec<String>> = Default::default();
        for (c, v) in &r.columns {
            let owner = c
                .match_indices('_')
                .map(|(i, _)| &c[..i])
                .rfind(|p| known.contains(p));
            if let Some(ns) = owner {
                let m = &c[ns.len() + 1..];
                if !NS_COLUMNS.contains(&m) {
                    outcomes_of.entry(ns).or_default().push(format!("{m} {v}"));
                }
            }
        }
        for ns in &namespaces {
            let g = |m: &str| n(&format!("{ns}_{m}"));
            let outcomes = outcomes_of.remove(ns.as_str()).unwrap_or_default();
            line(format!(
                "  {:<14} {:>11} {:>9} {:>11} {:>11} {:>11}  {}",
                ns,
                thousands(g("requests")),
                ratio(&format!("{ns}_hit_ratio")),
                thousands(g("evicted_keys")),
                thousands(g("expired_keys")),
                thousands(g("keys_mean").round()),
                outcomes.join(", ")
            ));
        }
    }
    for note in &r.notes {
        line(format!("  {note}"));
    }
    line(String::new());
    line(format!(
        "  speed: {} simulated ops in {:.2} s of wall time = {} sim ops/s",
        thousands(r.sim_ops as f64),
        r.wall_ms / 1000.0,
        thousands(r.sim_ops_per_sec().round())
    ));
    out
}
