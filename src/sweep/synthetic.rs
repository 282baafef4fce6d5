//! A synthetic [`Runner`]: made-up but plausible results computed from the
//! point alone, in the real CSV schema. It exercises the sweep machinery
//! (parallelism, parts, resume, shards, merge, the report) without the
//! engine, fast and with a controllable duration per run.

use super::exec::{RunOutput, Runner};
use super::grid::show;
use crate::metrics::result::Row;
use crate::metrics::schema;
use anyhow::{bail, Result};
use rand::{Rng, SeedableRng};
use std::fmt::Write;
use std::hash::{Hash, Hasher};
use std::time::Duration;

/// Synthetic results; `delay` is slept per run.
#[derive(Debug, Clone, Default)]
pub struct SyntheticRunner {
    /// Wall time each run takes.
    pub delay: Duration,
}

/// The value `point` gives dimension `name`, as text.
fn get(point: &[(&str, &toml::Value)], name: &str) -> Option<String> {
    point.iter().find(|(k, _)| *k == name).map(|(_, v)| show(v))
}

/// The parameter columns of run `run_id`: the schema's, with the point's
/// values where it sets them and a default server's otherwise, then the
/// synthetic pattern's TTL.
fn param_cells(run_id: &str, point: &[(&str, &toml::Value)]) -> Row {
    let config = crate::store::Config::default();
    let params = schema::RunParams {
        run_id,
        workload: "synthetic",
        seed: 1,
        duration_us: 60_000_000,
        warmup: crate::workload::Warmup::None,
        config: &config,
    };
    let mut cells = Row::default();
    for c in schema::PARAMS {
        match get(point, &c.col.name.replace('_', "-")) {
            Some(v) if c.col.kind == schema::Kind::Param => cells.put(c.col.name, v),
            _ => cells.cell(c.col.name, (c.value)(&params)),
        }
    }
    cells.put("param_cache_ttl_s", ttl(point));
    cells
}

fn ttl(point: &[(&str, &toml::Value)]) -> f64 {
    get(point, "cache.ttl")
        .and_then(|v| v.parse().ok())
        .unwrap_or(300.0)
}

impl Runner for SyntheticRunner {
    fn params(&self, point: &[(&str, &toml::Value)]) -> Result<Vec<(String, String)>> {
        for (k, _) in point {
            if k.contains('.') && !k.starts_with("cache.") {
                bail!("synthetic workload has only the namespace `cache`, not `{k}`");
            }
        }
        Ok(param_cells("", point).0)
    }

    fn unbounded_peak(&self) -> Result<u64> {
        Ok(64 << 20)
    }

    fn run(&self, run_id: u64, point: &[(&str, &toml::Value)]) -> Result<RunOutput> {
        std::thread::sleep(self.delay);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (k, v) in point {
            k.hash(&mut h);
            show(v).hash(&mut h);
        }
        let mut rng = rand_pcg::Pcg64::seed_from_u64(h.finish());
        let get = |name: &str| get(point, name);
        let cells = param_cells(&run_id.to_string(), point);
        let mut header = cells
            .0
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let mut row = cells
            .0
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let ttl = ttl(point);
        let mem: f64 = get("maxmemory").and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let policy = get("maxmemory-policy").unwrap_or_else(|| "noeviction".into());
        let need = 40e6 + ttl * 40e3;
        let frac = if mem > 0.0 {
            (mem / need).min(1.0)
        } else {
            1.0
        };
        let quality = match policy.as_str() {
            "noeviction" => 0.0,
            p if p.starts_with("allkeys") => 1.0,
            _ => 0.6,
        };
        let hr = ((0.55 + 0.3 * (1.0 - (-ttl / 300.0).exp())) * frac.powf(0.35 / (0.3 + quality))
            + rng.gen_range(-0.01..0.01))
        .clamp(0.0, 1.0);
        let requests = 100_000u64;
        let hits = (requests as f64 * hr) as u64;
        let evicted = if quality > 0.0 {
            ((1.0 - frac) * 30_000.0) as u64
        } else {
            0
        };
        let used = need.min(if mem > 0.0 { mem } else { f64::MAX });
        header.push_str(",requests,hits,misses,hit_ratio,evicted_keys,expired_keys,used_memory_peak,stale_memory_peak,sim_ops,cache_hit_ratio,cache_origin_fetches");
        let _ = write!(
            row,
            ",{requests},{hits},{},{:.6},{evicted},{},{},{},{},{:.6},{}",
            requests - hits,
            hits as f64 / requests as f64,
            (requests as f64 * 30.0 / ttl) as u64,
            used as u64,
            (used * 0.05) as u64,
            requests + 600,
            hr,
            requests - hits
        );
        let mut ts = String::new();
        for i in 1..=6u64 {
            let u = used * (i as f64 / 6.0).min(1.0);
            for (m, v) in [
                ("used_memory", u),
                ("live_memory", u * 0.85),
                ("stale_memory", u * 0.05),
            ] {
                let _ = writeln!(ts, "{run_id},{},{m},,{}", i * 10_000, v as u64);
            }
        }
        let mut lat = String::new();
        for (kind, scale) in [("active", 50.0f64), ("lazy", 700.0)] {
            let mut lo = 0.0f64;
            for hi in [1.0, 10.0, 100.0, 1000.0, 10000.0] {
                let c = (1000.0 * ((-lo / scale).exp() - (-hi / scale).exp())) as u64;
                let _ = writeln!(lat, "{run_id},{kind},{lo},{hi},{c}");
                lo = hi;
            }
        }
        Ok(RunOutput {
            runs_header: header,
            runs_row: row,
            timeseries: ts,
            latency: lat,
            sim_ops: requests + 600,
            reusable: None,
        })
    }
}
