//! `docs/columns.md` is generated from the one schema, and every column a
//! run writes has a description there.

use ttlsim::metrics::schema;
use ttlsim::sim::{self, RunSpec, Source};
use ttlsim::workload::load_workload;
use ttlsim::workload::patterns::OUTCOMES;
use ttlsim::workload::replay;

fn all_outcomes() -> Vec<(&'static str, schema::Outcomes)> {
    let mut v = OUTCOMES.to_vec();
    v.push(("trace replay", replay::OUTCOMES));
    v
}

#[test]
fn every_outcome_of_every_pattern_is_described_in_the_doc() {
    let doc = schema::markdown(&all_outcomes());
    let mut n = 0;
    for (kind, cols) in all_outcomes() {
        assert!(!cols.is_empty(), "{kind} declares no outcomes");
        for c in cols {
            assert!(
                c.description.trim().len() > 10,
                "{kind}: outcome `{}` has no description in its OUTCOMES",
                c.name
            );
            assert!(
                doc.contains(&format!("_{}` | ", c.name))
                    || doc.contains(&format!("`{}` | ", c.name)),
                "{kind}: outcome `{}` missing from docs/columns.md",
                c.name
            );
            n += 1;
        }
    }
    // The outcomes the README names are among them.
    for name in [
        "wrongly_denied",
        "lost_not_stored",
        "expired_idle",
        "logged_out_early",
    ] {
        assert!(
            all_outcomes()
                .iter()
                .any(|(_, o)| o.iter().any(|c| c.name == name)),
            "{name}"
        );
    }
    assert!(n >= 30, "only {n} outcomes");
}

#[test]
fn columns_doc_is_current() {
    let want = schema::markdown(&all_outcomes());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/columns.md");
    if std::env::var_os("TTLSIM_BLESS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/columns.md is stale: run `TTLSIM_BLESS=1 cargo test --release --test integration columns_doc::`"
    );
}

/// Asserts every column of `r` is described; returns how many there were.
fn check(r: &ttlsim::metrics::RunResult, what: &str) -> usize {
    let outcomes: Vec<schema::Outcomes> = all_outcomes().into_iter().map(|(_, o)| o).collect();
    let prefixes: Vec<&str> = r
        .columns
        .iter()
        .filter_map(|(c, _)| c.strip_suffix("_hit_ratio"))
        .filter(|p| !p.is_empty())
        .collect();
    for (c, _) in &r.columns {
        assert!(
            schema::describe(c, &prefixes, &outcomes).is_some(),
            "{what}: column `{c}` has no description in metrics::schema"
        );
    }
    for (m, ns) in &r.timeseries.names {
        let s = schema::describe_series(m, ns);
        assert!(
            s.is_some_and(|s| !s.description.is_empty()),
            "{what}: timeseries.csv metric `{m}` (namespace `{ns}`) has no description in metrics::schema"
        );
    }
    assert!(!r.timeseries.names.is_empty(), "{what}: no timeseries");
    r.columns.len() + r.timeseries.names.len()
}

#[test]
fn every_column_of_every_bundled_workload_is_described() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/workloads");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let mut w = load_workload(&path).unwrap();
        w.duration = Some(ttlsim::units::Dur(120_000_000));
        w.warmup = ttlsim::workload::Warmup::None;
        checked += check(
            &sim::run(&RunSpec::new(w)).unwrap(),
            &path.display().to_string(),
        );
    }
    let trace = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/trace_zipf_10k.csv");
    let mut spec = RunSpec::new(ttlsim::workload::Workload::for_trace("t"));
    spec.source = Source::Trace(ttlsim::workload::replay::TraceInput::new(trace));
    checked += check(&sim::run(&spec).unwrap(), "trace replay");
    assert!(checked > 200, "only {checked} columns checked");
}
