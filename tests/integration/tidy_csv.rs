//! The CSVs read as tidy data: every numeric column's cells parse as
//! numbers (or are empty, for "none"), so pandas and R give numeric dtypes.
//! A column is numeric when the schema gives it a unit, or when its name
//! ends in a unit suffix; and no column mixes numbers with other text.

use ttlsim::metrics::schema;
use ttlsim::sim::{self, RunSpec};
use ttlsim::workload::{load_workload, parse_workload};

use super::common::repo_path;

fn numeric_name(name: &str) -> bool {
    ["_s", "_ms", "_bytes", "_per_s", "_ratio", "_count"]
        .iter()
        .any(|s| name.ends_with(s))
        || schema::PARAMS
            .iter()
            .map(|p| &p.col)
            .chain(schema::METRICS.iter().map(|m| &m.col))
            .any(|c| c.name == name && c.unit != schema::Unit::Text)
}

fn check(header: &[String], rows: &[Vec<String>], what: &str) {
    for (i, name) in header.iter().enumerate() {
        let cells: Vec<&str> = rows.iter().map(|r| r[i].as_str()).collect();
        let num = |c: &&str| c.is_empty() || c.parse::<f64>().is_ok();
        let any_number = cells
            .iter()
            .any(|c| !c.is_empty() && c.parse::<f64>().is_ok());
        if numeric_name(name) || any_number {
            let bad: Vec<&&str> = cells.iter().filter(|c| !num(c)).collect();
            assert!(
                bad.is_empty(),
                "{what}: column `{name}` has non-numbers {bad:?}"
            );
        }
    }
}

#[test]
fn every_numeric_cell_of_every_bundled_workload_parses_as_a_number() {
    let mut header: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    let mut all = Vec::new();
    for f in std::fs::read_dir(repo_path("workloads")).unwrap() {
        let mut w = load_workload(&f.unwrap().path()).unwrap();
        w.duration = Some(ttlsim::units::Dur(20_000_000));
        w.warmup = ttlsim::workload::Warmup::Time(ttlsim::units::Dur(5_000_000));
        all.push(w);
    }
    // A request-count warm-up, a size table, bursts at fixed times, a daily cycle.
    all.push(
        parse_workload(
            r#"
name = "forms"
duration = "20s"
warmup = 100
[[pattern]]
kind = "cache-aside"
namespace = "a"
keys = 100
popularity = { kind = "hotspot", hot_fraction = 0.1, hot_share = 0.9 }
value_size = { kind = "table", sizes = [10, 100], weights = [1, 2] }
arrival = { kind = "daily", rate = 50.0, amplitude = 0.5 }
[[pattern]]
kind = "tokens"
namespace = "b"
campaigns = { kind = "bursts", at = ["1s", "5s"], count = 50 }
ttl = "1h"
redeem_fraction = 0.5
redeem_delay = { kind = "uniform", min = "1s", max = "2s" }
value_size = { kind = "fixed", bytes = 30 }
"#,
            "forms.toml",
        )
        .unwrap(),
    );
    for w in all {
        let r = sim::run(&RunSpec::new(w)).unwrap();
        let mut b = Vec::new();
        ttlsim::metrics::output::runs_header(&mut b, &r).unwrap();
        ttlsim::metrics::output::runs_row(&mut b, &r).unwrap();
        let mut rd = csv::Reader::from_reader(b.as_slice());
        let h: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
        let row: Vec<String> = rd
            .records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        check(&h, std::slice::from_ref(&row), "runs.csv");
        header = h;
        rows.push(row);
        let (mut ts, mut lat) = (Vec::new(), Vec::new());
        ttlsim::metrics::output::timeseries_rows(&mut ts, &r).unwrap();
        ttlsim::metrics::output::latency_rows(&mut lat, &r).unwrap();
        for (name, b) in [("timeseries.csv", ts), ("expiry_lag.csv", lat)] {
            let mut rd = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(b.as_slice());
            let rows: Vec<Vec<String>> = rd
                .records()
                .map(|r| r.unwrap().iter().map(str::to_string).collect())
                .collect();
            let width = rows.first().map_or(0, Vec::len);
            let cols: Vec<String> = (0..width).map(|i| format!("col{i}")).collect();
            // Long format: the last column is the value.
            if width > 0 {
                let vals: Vec<Vec<String>> =
                    rows.iter().map(|r| vec![r[width - 1].clone()]).collect();
                check(&cols[width - 1..], &vals, name);
            }
        }
    }
    assert!(
        header.iter().any(|h| h == "warmup_ms") && header.iter().any(|h| h == "warmup_requests")
    );
    assert!(
        !header.iter().any(|h| h == "warmup"),
        "warm-up is two numeric columns"
    );
    // Packed parameter strings are gone: no cell looks like `poisson:10`.
    for r in &rows {
        for c in r {
            assert!(
                !(c.contains(':')
                    && c.split(':')
                        .next()
                        .is_some_and(|k| k.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'))),
                "packed cell {c}"
            );
        }
    }
}
