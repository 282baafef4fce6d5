//! Inputs at the edges: out-of-range trace values, per-entity key prefixes,
//! namespaces that sanitise alike, absurd rates. Each gets a clear error or a
//! bounded, correct result, never a hang, a wrapped number or a panic.

use std::path::Path;
use std::process::{Command, Output};

fn ttlsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ttlsim"))
        .args(args)
        .output()
        .expect("run ttlsim")
}

fn header(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    text.lines()
        .next()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect()
}

#[test]
fn out_of_range_trace_values_are_refused_with_their_line() {
    let tmp = tempfile::tempdir().unwrap();
    for (row, field) in [
        ("0,set,a:1,10,9223372036854775807", "ttl_ms"),
        ("18446744073709551615,set,a:1,10,0", "time_ms"),
    ] {
        let trace = tmp.path().join("t.csv");
        std::fs::write(
            &trace,
            format!("time_ms,op,key,size,ttl_ms\n0,get,a:0,10,0\n{row}\n"),
        )
        .unwrap();
        let out = tmp.path().join("out");
        let o = ttlsim(&[
            "run",
            "--trace",
            trace.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("t.csv:3:") && err.contains(field), "{err}");
        assert!(!out.exists(), "no output after a bad row");
    }
}

#[test]
fn per_entity_prefixes_fold_into_a_bounded_set_of_namespaces() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("t.csv");
    let mut text = String::from("time_ms,op,key,size,ttl_ms\n");
    for i in 0..5_000 {
        text.push_str(&format!(
            "{i},set,user:{i}:profile,100,0\n{i},get,user:{i}:profile,100,0\n"
        ));
    }
    std::fs::write(&trace, text).unwrap();
    let out = tmp.path().join("out");
    let o = ttlsim(&[
        "run",
        "--trace",
        trace.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("counted together as `other`"));
    let cols = header(&out);
    let namespaces = cols.iter().filter(|c| c.ends_with("_hit_ratio")).count();
    assert_eq!(namespaces, 65, "64 namespaces and `other`");
    // Folded keys keep their identity: every get hits its own set.
    let text = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let hit_ratio = row[cols.iter().position(|c| c == "hit_ratio").unwrap()];
    assert_eq!(hit_ratio.parse::<f64>().unwrap(), 1.0);
}

#[test]
fn namespaces_that_sanitise_alike_get_distinct_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("t.csv");
    std::fs::write(
        &trace,
        "time_ms,op,key,size,ttl_ms\n0,set,a-b:1,10,0\n1,set,a_b:1,10,0\n2,get,a-b:1,10,0\n3,get,a_b:2,10,0\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    assert!(ttlsim(&[
        "run",
        "--trace",
        trace.to_str().unwrap(),
        "--out",
        out.to_str().unwrap()
    ])
    .status
    .success());
    let cols = header(&out);
    let mut sorted = cols.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), cols.len(), "duplicate columns: {cols:?}");
    assert!(
        cols.contains(&"a_b_hit_ratio".to_string())
            && cols.contains(&"a_b_2_hit_ratio".to_string())
    );
}

/// Runs a one-pattern cache-aside workload whose `keys` and `rate` values are
/// given as TOML text; the run must fail. Returns its error output.
fn run_cache_aside_expecting_error(keys: &str, rate: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("w.toml");
    std::fs::write(
        &w,
        format!(
            "name = \"x\"\nduration = \"1m\"\n[[pattern]]\nkind = \"cache-aside\"\nnamespace = \"c\"\nkeys = {keys}\npopularity = {{ kind = \"uniform\" }}\nvalue_size = {{ kind = \"fixed\", bytes = 10 }}\narrival = {{ kind = \"poisson\", rate = {rate} }}\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("o");
    let o = ttlsim(&["run", w.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(!out.exists(), "no output after refused input");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn absurd_rates_are_refused() {
    let err = run_cache_aside_expecting_error("10", "1e300");
    assert!(
        err.contains("w.toml:9:")
            && err.contains("arrival.rate: expected a number above 0 and at most 10000000"),
        "{err}"
    );
}

#[test]
fn a_wrong_typed_pattern_field_is_named_at_its_line() {
    let err = run_cache_aside_expecting_error("\"many\"", "10.0");
    assert!(
        err.contains("w.toml:6:8: pattern[1].keys: expected a whole number"),
        "{err}"
    );
}
