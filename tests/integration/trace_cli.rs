//! `ttlsim trace stats|convert|generate` through the binary: hand-counted
//! statistics of the fixtures, conversions that round-trip to the byte,
//! a deterministic generator whose trace has the shape it was asked for,
//! and errors that name the file and position and leave no file behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ttlsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ttlsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn ok(args: &[&str], dir: &Path) -> String {
    let o = ttlsim(args, dir);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The error message of a failing command (stderr less `error: `).
fn fails(args: &[&str], dir: &Path) -> String {
    let o = ttlsim(args, dir);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(o.stdout.is_empty(), "{args:?} printed on stdout");
    let e = String::from_utf8(o.stderr).unwrap();
    e.strip_prefix("error: ")
        .unwrap_or(&e)
        .trim_end()
        .to_string()
}

fn fixture(name: &str) -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/traces/").to_string() + name
}

/// Column `name` of the one run in `out`'s runs.csv.
fn run_column(out: &Path, name: &str) -> String {
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let mut r = csv::Reader::from_reader(runs.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let record = r.records().next().unwrap().unwrap();
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("runs.csv has no {name}: {header:?}"));
    record[i].to_string()
}

fn cloud_physics() -> &'static str {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/cloudPhysicsIO.oracleGeneral.bin"
    )
}

/// `trace stats FILE --out DIR`'s CSV as (metric, label, value) rows.
fn stats(file: &str, extra: &[&str], dir: &Path) -> Vec<(String, String, String)> {
    let out = dir.join("stats");
    let mut args = vec!["trace", "stats", file, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    ok(&args, dir);
    let text = std::fs::read_to_string(out.join("trace_stats.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(r.headers().unwrap(), vec!["metric", "label", "value"]);
    r.records()
        .map(|x| {
            let x = x.unwrap();
            (x[0].to_string(), x[1].to_string(), x[2].to_string())
        })
        .collect()
}

fn value(rows: &[(String, String, String)], metric: &str, label: &str) -> String {
    rows.iter()
        .find(|r| r.0 == metric && r.1 == label)
        .unwrap_or_else(|| panic!("no {metric},{label} in {rows:?}"))
        .2
        .clone()
}

fn num(rows: &[(String, String, String)], metric: &str) -> f64 {
    value(rows, metric, "").parse().unwrap()
}

#[test]
fn stats_of_the_ttlsim_fixture_are_the_hand_counted_numbers() {
    // small.ttlsim.csv: 30 rows over cache:000000..000006 (12-byte keys),
    // 28 ms to 784 ms. Each key's last size > 0: k0 100 (setnx at 783),
    // k1 64, k2 512, k3 64, k4 100, k5 512, k6 100: 84 + 1452 = 1536 B.
    // TTLs: k0 (set 60 s, expire 60 s), k3 (set, expire), k6 (set) keep
    // 60 s; k1, k2, k4, k5 were filled without one (k4's persist). k2 was
    // filled at 91 and deleted at 724: 6 live keys, 1536 - 524 = 1012 B.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let printed = ok(
        &[
            "trace",
            "stats",
            &fixture("small.ttlsim.csv"),
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(
        std::fs::read_to_string(out.join("trace_stats.csv")).unwrap(),
        "metric,label,value
format,,ttlsim
requests,,30
time_clamped,,0
time_first_s,,0.028
time_last_s,,0.784
time_span_s,,0.756
op,get,9
op,del,3
op,expire,3
op,getex,3
op,incr,3
op,persist,3
op,set,3
op,setnx,3
keyless_requests,,0
distinct_keys,,7
namespace_requests,cache,30
namespace_keys,cache,7
value_size_keys,64-127,5
value_size_keys,512-1023,2
ttl_keys,32-63,3
ttl_keys,none,4
keys_with_ttl,,3
ttl_key_fraction,,0.428571
one_hit_wonders,,0
one_hit_wonder_fraction,,0
working_set_bytes,,1536
live_keys_at_end,,6
live_working_set_bytes,,1012
"
    );
    assert!(printed.contains("requests             30\n"), "{printed}");
    assert!(
        printed.contains("working set          1536 B (key + value, all keys); 1012 B in the 6 keys live at the end\n"),
        "{printed}"
    );
    assert!(printed.ends_with(&format!(
        "wrote {}\n",
        out.join("trace_stats.csv").display()
    )));
}

#[test]
fn stats_default_to_results_stem_and_read_compressed_copies_alike() {
    let dir = tempfile::tempdir().unwrap();
    ok(
        &["trace", "stats", &fixture("small.oracleGeneral.bin")],
        dir.path(),
    );
    let plain = std::fs::read_to_string(
        dir.path()
            .join("results/small.oracleGeneral/trace_stats.csv"),
    )
    .unwrap();
    // 30 records, objects 11..17, last sizes 100, 200, 4096, 1, 65536,
    // 512, 77: 70522 B; object 15 is requested once.
    for (metric, v) in [
        ("requests", "30"),
        ("distinct_keys", "7"),
        ("time_first_s", "100"),
        ("time_span_s", "9"),
        ("one_hit_wonders", "1"),
        ("working_set_bytes", "70522"),
        ("live_working_set_bytes", "70522"),
        ("keys_with_ttl", "0"),
    ] {
        assert!(
            plain.contains(&format!("\n{metric},,{v}\n")),
            "{metric}: {plain}"
        );
    }
    assert!(plain.contains("\nop,get,30\n") && plain.contains("\nnamespace_keys,obj,7\n"));
    assert!(plain.contains("\nvalue_size_keys,1-1,1\nvalue_size_keys,64-127,2\nvalue_size_keys,128-255,1\nvalue_size_keys,512-1023,1\nvalue_size_keys,4096-8191,1\nvalue_size_keys,65536-131071,1\n"), "{plain}");
    for copy in ["small.oracleGeneral.bin.zst", "small.oracleGeneral.bin.gz"] {
        let rows = stats(&fixture(copy), &[], dir.path());
        let text: String = rows
            .iter()
            .map(|r| format!("{},{},{}\n", r.0, r.1, r.2))
            .collect();
        assert_eq!(format!("metric,label,value\n{text}"), plain, "{copy}");
    }
}

#[test]
fn stats_of_a_monitor_trace_count_commands_and_their_writes() {
    // 24 commands on db 0 (PING has no key), 13 keys. SET k EX 30, INCR +
    // EXPIRE counter 60, SET s:1 PX 1500 then GETEX EX 9 give 3 keys a TTL
    // (t's SETEX/PEXPIRE end in PERSIST); k is deleted, and unix-socket,
    // ipv6 and x are only read: 9 keys live. Keys 43 B, values 50 B (the
    // escaped value is 37 bytes).
    let dir = tempfile::tempdir().unwrap();
    let rows = stats(&fixture("small.monitor"), &[], dir.path());
    for (metric, v) in [
        ("requests", 24.0),
        ("keyless_requests", 1.0),
        ("distinct_keys", 13.0),
        ("keys_with_ttl", 3.0),
        ("live_keys_at_end", 9.0),
        ("working_set_bytes", 93.0),
        ("live_working_set_bytes", 75.0),
        ("one_hit_wonders", 7.0),
    ] {
        assert_eq!(num(&rows, metric), v, "{metric}");
    }
    for (op, n) in [
        ("SET", "8"),
        ("GET", "5"),
        ("INCR", "2"),
        ("PING", "1"),
        ("TTL", "1"),
    ] {
        assert_eq!(value(&rows, "op", op), n, "{op}");
    }
    for (why, n) in [("db 3", "2"), ("MULTI", "2"), ("EXEC", "1"), ("EVAL", "1")] {
        assert_eq!(value(&rows, "skipped", why), n, "{why}");
    }
    assert_eq!(value(&rows, "ttl_keys", "8-15"), "1"); // s:1, 9 s
    assert_eq!(value(&rows, "ttl_keys", "16-31"), "1"); // k, 30 s
    assert_eq!(value(&rows, "ttl_keys", "32-63"), "1"); // counter, 60 s
    assert_eq!(value(&rows, "namespace_keys", "s"), "1");
    assert_eq!(value(&rows, "namespace_keys", "default"), "12");
}

#[test]
fn stats_read_a_users_csv_through_the_column_flags() {
    let dir = tempfile::tempdir().unwrap();
    let rows = stats(
        &fixture("small_ops.csv"),
        &[
            "--columns",
            "time=1,key=2,op=3,size=4,ttl=5",
            "--header",
            "--time-unit",
            "s",
            "--delimiter",
            ",",
        ],
        dir.path(),
    );
    assert_eq!(value(&rows, "format", ""), "csv");
    assert_eq!(num(&rows, "requests"), 20.0);
    // user:1, 42 (an id), 007, "hello, world", k0..k3.
    assert_eq!(num(&rows, "distinct_keys"), 8.0);
    assert_eq!(value(&rows, "namespace_keys", "obj"), "1");
    assert_eq!(value(&rows, "namespace_keys", "user"), "1");
    assert_eq!(num(&rows, "time_span_s"), 8.0);
    assert_eq!(value(&rows, "op", "setxx"), "2");
}

/// Parses oracleGeneral records as (time, id, size, next).
fn og_records(bytes: &[u8]) -> Vec<(u32, u64, u32, i64)> {
    assert_eq!(bytes.len() % 24, 0);
    bytes
        .chunks_exact(24)
        .map(|b| {
            (
                u32::from_le_bytes(b[0..4].try_into().unwrap()),
                u64::from_le_bytes(b[4..12].try_into().unwrap()),
                u32::from_le_bytes(b[12..16].try_into().unwrap()),
                i64::from_le_bytes(b[16..24].try_into().unwrap()),
            )
        })
        .collect()
}

#[test]
fn the_bundled_trace_round_trips_through_ttlsim_to_the_byte() {
    // Times are rebased to start at 0 on the way in, so the file that comes
    // back is the original with every time moved by the first record's
    // (5,633,898 s), identical in every other byte; converting it again
    // (oracle-general → ttlsim → oracle-general) gives exactly itself.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let printed = ok(
        &[
            "trace",
            "convert",
            cloud_physics(),
            "cp.csv",
            "--to",
            "ttlsim",
        ],
        d,
    );
    assert!(
        printed.ends_with("wrote 113872 records to cp.csv (ttlsim)\n"),
        "{printed}"
    );
    let csv = std::fs::read_to_string(d.join("cp.csv")).unwrap();
    assert!(csv.starts_with("time_ms,op,key,size,ttl_ms\n0,get,obj:42932745,512,0\n"));
    ok(
        &[
            "trace",
            "convert",
            "cp.csv",
            "back.oracleGeneral.bin",
            "--to",
            "oracle-general",
        ],
        d,
    );
    let original = std::fs::read(cloud_physics()).unwrap();
    let back = std::fs::read(d.join("back.oracleGeneral.bin")).unwrap();
    let (a, b) = (og_records(&original), og_records(&back));
    assert_eq!(a.len(), 113_872);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((x.0 - 5_633_898, x.1, x.2, x.3), *y);
    }
    ok(
        &[
            "trace",
            "convert",
            "back.oracleGeneral.bin",
            "cp2.csv",
            "--to",
            "ttlsim",
        ],
        d,
    );
    ok(
        &[
            "trace",
            "convert",
            "cp2.csv",
            "again.oracleGeneral.bin",
            "--to",
            "oracle-general",
        ],
        d,
    );
    assert!(std::fs::read(d.join("again.oracleGeneral.bin")).unwrap() == back);
    assert_eq!(std::fs::read(d.join("cp2.csv")).unwrap(), csv.as_bytes());
}

#[test]
fn ttlsim_to_oracle_general_keeps_requests_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        &[
            "trace",
            "generate",
            "g.csv",
            "--to",
            "ttlsim",
            "--requests",
            "20000",
            "--keys",
            "3000",
            "--seed",
            "5",
        ],
        d,
    );
    let printed = ok(
        &[
            "trace",
            "convert",
            "g.csv",
            "g.oracleGeneral.bin",
            "--to",
            "oracle-general",
        ],
        d,
    );
    assert!(
        printed.contains("  TTLs dropped (oracle-general cannot hold one): "),
        "{printed}"
    );
    let a = stats("g.csv", &[], d);
    let b = stats("g.oracleGeneral.bin", &[], d);
    for m in ["requests", "distinct_keys", "one_hit_wonders"] {
        assert_eq!(num(&a, m), num(&b, m), "{m}");
    }
    assert_eq!(num(&a, "requests"), 20000.0);
    // The ttlsim trace's key names are obj:<id>: the bytes the keys add.
    assert!(num(&a, "working_set_bytes") > num(&b, "working_set_bytes"));
    assert_eq!(num(&b, "keys_with_ttl"), 0.0);
}

#[test]
fn generate_is_deterministic_and_both_targets_agree() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gen = |out: &str, to: &str, seed: &str| {
        ok(
            &[
                "trace",
                "generate",
                out,
                "--to",
                to,
                "--requests",
                "50000",
                "--keys",
                "4000",
                "--seed",
                seed,
            ],
            d,
        )
    };
    let printed = gen("a.oracleGeneral.bin", "oracle-general", "7");
    assert_eq!(
        printed,
        "wrote 50000 requests to a.oracleGeneral.bin (oracle-general): 4000 keys, Zipf(0.99), seed 7, \
         sizes lognormal (median 256 B, sigma 1), 70% of keys with a TTL of 60s-3600s\n  \
         TTLs dropped: oracle-general cannot hold a TTL (write --to ttlsim to keep them)\n"
    );
    gen("b.oracleGeneral.bin", "oracle-general", "7");
    gen("c.oracleGeneral.bin", "oracle-general", "8");
    gen("a.csv", "ttlsim", "7");
    gen("b.csv", "ttlsim", "7");
    let read = |f: &str| std::fs::read(d.join(f)).unwrap();
    assert!(read("a.oracleGeneral.bin") == read("b.oracleGeneral.bin"));
    assert!(read("a.oracleGeneral.bin") != read("c.oracleGeneral.bin"));
    assert!(read("a.csv") == read("b.csv"));
    assert_eq!(read("a.oracleGeneral.bin").len(), 50000 * 24);
    // The ttlsim trace, converted, is the oracle-general one.
    ok(
        &[
            "trace",
            "convert",
            "a.csv",
            "conv.oracleGeneral.bin",
            "--to",
            "oracle-general",
        ],
        d,
    );
    assert!(read("conv.oracleGeneral.bin") == read("a.oracleGeneral.bin"));
    // One request per ms, filling gets.
    let csv = String::from_utf8(read("a.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 50001);
    assert!(lines[1].starts_with("0,get,obj:"), "{}", lines[1]);
    assert!(
        lines[50000].starts_with("49999,get,obj:"),
        "{}",
        lines[50000]
    );
}

#[test]
fn generated_stats_match_the_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Uniform popularity, 25 requests per key on average: every key is seen.
    ok(
        &[
            "trace",
            "generate",
            "u.csv",
            "--to",
            "ttlsim",
            "--requests",
            "125000",
            "--keys",
            "5000",
            "--zipf",
            "0",
            "--seed",
            "3",
        ],
        d,
    );
    let rows = stats("u.csv", &[], d);
    assert_eq!(num(&rows, "requests"), 125000.0);
    assert_eq!(num(&rows, "distinct_keys"), 5000.0);
    assert_eq!(num(&rows, "time_span_s"), 124.999);
    let f = num(&rows, "ttl_key_fraction");
    assert!((f - 0.7).abs() <= 0.02, "TTL fraction {f}");
    // TTLs of 60..3600 s fall in the buckets 32-63 .. 2048-4095 s.
    for r in rows.iter().filter(|r| r.0 == "ttl_keys" && r.1 != "none") {
        assert!(
            [
                "32-63",
                "64-127",
                "128-255",
                "256-511",
                "512-1023",
                "1024-2047",
                "2048-4095"
            ]
            .contains(&r.1.as_str()),
            "{r:?}"
        );
    }
    // Median 256 B, sigma 1: ln(size) ~ N(ln 256, 1), so each bucket next
    // to the median holds P(0 < z < ln 2) = 25.6% of the keys.
    let share = |b: &str| value(&rows, "value_size_keys", b).parse::<f64>().unwrap() / 5000.0;
    for b in ["128-255", "256-511"] {
        assert!((share(b) - 0.256).abs() < 0.03, "{b}: {}", share(b));
    }
    // Zipf(0.99) over 5000 keys with 20000 requests: the tail is not seen.
    ok(
        &[
            "trace",
            "generate",
            "z.oracleGeneral.bin",
            "--to",
            "oracle-general",
            "--requests",
            "20000",
            "--keys",
            "5000",
        ],
        d,
    );
    let rows = stats("z.oracleGeneral.bin", &[], d);
    let keys = num(&rows, "distinct_keys");
    assert!(keys < 5000.0 && keys > 1000.0, "{keys}");
    assert_eq!(num(&rows, "keys_with_ttl"), 0.0);
}

#[test]
fn unsupported_records_are_refused_by_position_or_counted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let twitter = fixture("small.twitter.csv");
    assert_eq!(
        fails(&["trace", "convert", &twitter, "t.csv", "--to", "ttlsim"], d),
        format!("{twitter}:6: cannot write op setxx as a ttlsim trace row; pass --skip-unsupported to drop such records")
    );
    assert!(!d.join("t.csv").exists());
    let printed = ok(
        &[
            "trace",
            "convert",
            &twitter,
            "t.csv",
            "--to",
            "ttlsim",
            "--skip-unsupported",
        ],
        d,
    );
    assert_eq!(
        printed,
        format!(
            "read 24 records from {twitter}\n  skipped 5 the target cannot express: op setxx 2, op append 2, op decr 1\nwrote 19 records to t.csv (ttlsim)\n"
        )
    );
    let rows = stats("t.csv", &[], d);
    assert_eq!(num(&rows, "requests"), 19.0);
    let monitor = fixture("small.monitor");
    assert_eq!(
        fails(&["trace", "convert", &monitor, "m.bin", "--to", "oracle-general"], d),
        format!("{monitor}:2: cannot write command SET as an oracle-general record; pass --skip-unsupported to drop such records")
    );
    let ttl = fixture("small.ttlsim.csv");
    assert_eq!(
        fails(&["trace", "convert", &ttl, "o.oracleGeneral.bin", "--to", "oracle-general"], d),
        format!("{ttl}:5: cannot write op del as an oracle-general record; pass --skip-unsupported to drop such records")
    );
    let printed = ok(
        &[
            "trace",
            "convert",
            &ttl,
            "o.oracleGeneral.bin",
            "--to",
            "oracle-general",
            "--skip-unsupported",
        ],
        d,
    );
    assert_eq!(
        printed,
        format!(
            "read 30 records from {ttl}\n  skipped 9 the target cannot express: op del 3, op expire 3, op persist 3\n  \
             not written: size 0 8\n  TTLs dropped (oracle-general cannot hold one): 6 requests had one\n\
             wrote 13 records to o.oracleGeneral.bin (oracle-general)\n"
        )
    );
    assert_eq!(
        std::fs::read(d.join("o.oracleGeneral.bin")).unwrap().len(),
        13 * 24
    );
}

#[test]
fn bad_input_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ttl = fixture("small.ttlsim.csv");
    assert_eq!(
        fails(&["trace", "stats", &ttl, "--trace-format", "parquet"], d),
        "--trace-format: unknown trace format `parquet` (expected one of: ttlsim, monitor, oracle-general, twr-ns, twr, twitter, csv)"
    );
    assert_eq!(
        fails(&["trace", "convert", &ttl, "x", "--to", "twr"], d),
        "--to: cannot write trace format `twr` (expected one of: ttlsim, oracle-general)"
    );
    assert_eq!(
        fails(
            &[
                "trace",
                "stats",
                &fixture("small_keys.csv"),
                "--trace-format",
                "csv"
            ],
            d
        ),
        "--trace-format csv needs --columns (e.g. `--columns time=1,key=2,size=3`)"
    );
    assert_eq!(
        fails(&["trace", "stats", &ttl, "--header"], d),
        "--header describes a csv trace: give --columns too"
    );
    assert_eq!(
        fails(&["trace", "stats", &fixture("small_keys.csv"), "--columns", "key=1,siz=2"], d),
        "csv spec: unknown name `siz` (expected time, key, op, size, ttl, key_size, delim, header, unit)"
    );
    // The same file through another path.
    let copy = d.join("in.csv");
    std::fs::copy(&ttl, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    assert_eq!(
        fails(
            &["trace", "convert", "in.csv", "./in.csv", "--to", "ttlsim"],
            d
        ),
        "the output `./in.csv` is the input trace: write to another file"
    );
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    for (args, msg) in [
        (
            vec!["--requests", "0"],
            "--requests must be between 1 and 10000000000 (got 0)",
        ),
        (
            vec!["--requests", "10000000001"],
            "--requests must be between 1 and 10000000000 (got 10000000001)",
        ),
        (
            vec!["--keys", "0"],
            "--keys must be between 1 and 10000000000 (got 0)",
        ),
        (
            vec!["--zipf", "-1"],
            "--zipf must be a number from 0 to 100 (got -1)",
        ),
        (
            vec!["--ttl-fraction", "1.5"],
            "--ttl-fraction must be between 0 and 1 (got 1.5)",
        ),
        (
            vec!["--ttl-min", "1h", "--ttl-max", "1m"],
            "--ttl-min (1h) must not exceed --ttl-max (1m)",
        ),
        (
            vec!["--ttl-min", "0s"],
            "--ttl-min must be between 1ms and 3153600000000ms (got 0s)",
        ),
        (
            vec!["--size-median", "0"],
            "--size-median must be between 1 and 4294967295 bytes (got 0)",
        ),
    ] {
        let mut a = vec!["trace", "generate", "g.bin", "--to", "oracle-general"];
        a.extend(args);
        assert_eq!(fails(&a, d), msg);
    }
    // A trace that breaks part-way: the error names the record, and
    // neither the output nor a temporary file is left.
    let trunc = fixture("truncated.oracleGeneral.bin");
    for to in ["ttlsim", "oracle-general"] {
        assert_eq!(
            fails(&["trace", "convert", &trunc, "out", "--to", to], d),
            format!("{trunc}: byte 72 (record 4): truncated record: the file ends 10 bytes into a 24-byte record")
        );
    }
    assert_eq!(
        fails(&["trace", "stats", &trunc, "--out", "st"], d),
        format!("{trunc}: byte 72 (record 4): truncated record: the file ends 10 bytes into a 24-byte record")
    );
    let mut left: Vec<PathBuf> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    left.sort();
    assert_eq!(left, vec![copy]);
}

#[test]
fn stats_name_namespaces_as_a_replay_names_its_columns() {
    // Keys `nz:u:*` (namespace nz_u), `Nz-U:*` (sanitised alike: nz_u_2,
    // named in the order met), ids (obj, shared with `obj:` names) and
    // names without a prefix (default).
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("ns.csv");
    let rows = [
        "1,nz:u:1,get,10",
        "2,Nz-U:7,get,10",
        "3,nz:u:2,set,10",
        "4,42,get,10",
        "5,plain,get,10",
        "6,obj:5,get,10",
        "7,nz:u:1,get,10",
        "8,Nz-U:7,get,10",
        "9,42,get,10",
        "10,other_plain,set,10",
        "11,nz:u:3,get,10",
    ];
    std::fs::write(&trace, rows.join("\n") + "\n").unwrap();
    let flags = ["--columns", "time=1,key=2,op=3,size=4", "--time-unit", "s"];
    let stats_rows = stats(trace.to_str().unwrap(), &flags, dir.path());
    let out = dir.path().join("replay");
    let mut args = vec![
        "run",
        "--trace",
        trace.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(&flags);
    ok(&args, dir.path());
    let column = |name: &str| run_column(&out, name);
    let namespaces: Vec<&(String, String, String)> = stats_rows
        .iter()
        .filter(|r| r.0 == "namespace_requests")
        .collect();
    let names: Vec<&str> = namespaces.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        names,
        ["nz_u", "obj", "default", "nz_u_2"],
        "most requested first"
    );
    for (_, ns, requests) in namespaces {
        assert_eq!(column(&format!("{ns}_requests")), *requests, "{ns}");
    }
    assert_eq!(value(&stats_rows, "namespace_requests", "nz_u"), "4");
}

/// `used_memory_peak` of a replay of the Twitter trace `text`.
fn twitter_peak(dir: &Path, text: &str, model: &str) -> f64 {
    let trace = dir.join(format!("{model}-{}.twitter.csv", text.len()));
    std::fs::write(&trace, text).unwrap();
    let out = dir.join(format!("{model}-{}", text.len()));
    let args = [
        "run",
        "--trace",
        trace.to_str().unwrap(),
        "--trace-format",
        "twitter",
        "--memory-model",
        model,
        "--out",
        out.to_str().unwrap(),
    ];
    ok(&args, dir);
    run_column(&out, "used_memory_peak").parse().unwrap()
}

#[test]
fn a_twitter_traces_key_size_is_the_key_memory_of_named_keys() {
    // `nz:u:1` is 6 bytes anonymised; the real key was 40 bytes (or 6).
    let dir = tempfile::tempdir().unwrap();
    let real = "0,nz:u:1,40,100,1,set,0\n1,nz:u:1,40,100,1,get,0\n";
    let same = "0,nz:u:1,6,100,1,set,0\n1,nz:u:1,6,100,1,get,0\n";
    // Objects: key size + value size.
    assert_eq!(twitter_peak(dir.path(), real, "objects"), 140.0);
    assert_eq!(twitter_peak(dir.path(), same, "objects"), 106.0);
    // Redis: the key's sds is class(3 + 40 + 1) = 48 B against
    // class(1 + 6 + 1) = 8 B for the anonymised name.
    let diff = twitter_peak(dir.path(), real, "redis") - twitter_peak(dir.path(), same, "redis");
    assert_eq!(diff, 40.0);
}

#[test]
fn a_monitor_replay_runs_append_instead_of_skipping_it() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("append.monitor");
    std::fs::write(
        &capture,
        "1764620000.000000 [0 127.0.0.1:1] \"APPEND\" \"k:1\" \"hello\"\n\
         1764620000.001000 [0 127.0.0.1:1] \"APPEND\" \"k:1\" \" world\"\n\
         1764620000.002000 [0 127.0.0.1:1] \"GET\" \"k:1\"\n\
         1764620000.003000 [0 127.0.0.1:1] \"GET\" \"k:2\"\n",
    )
    .unwrap();
    let out = dir.path().join("replay");
    let printed = ok(
        &[
            "run",
            "--trace",
            capture.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(!printed.contains("APPEND"), "{printed}");
    let column = |name: &str| run_column(&out, name);
    assert_eq!(column("trace_skipped"), "0");
    assert_eq!(column("keyspace_hits"), "1");
    assert_eq!(column("keyspace_misses"), "1");
}

/// A replay cut short by `--duration` counts the records it skipped and
/// clamped up to where it stopped, not to the end of the block of records
/// it had decoded ahead (it said 585 skipped and 3 clamped here before).
#[test]
fn a_shortened_replay_counts_skips_only_up_to_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("skips.oracleGeneral.bin");
    let mut b = Vec::new();
    for i in 0..20_000u32 {
        // Ten records a second, every 7th of size 0 (skipped), a step back
        // of 1 s (clamped) every 997 records from the 500th.
        let t = i / 10 - u32::from(i % 997 == 500);
        b.extend_from_slice(&t.to_le_bytes());
        b.extend_from_slice(&u64::from(i % 500).to_le_bytes());
        b.extend_from_slice(&(if i % 7 == 3 { 0u32 } else { 100 }).to_le_bytes());
        b.extend_from_slice(&(-1i64).to_le_bytes());
    }
    std::fs::write(&trace, b).unwrap();
    let out = dir.path().join("replay");
    let printed = ok(
        &[
            "run",
            "--trace",
            trace.to_str().unwrap(),
            "--maxmemory",
            "2mb",
            "--duration",
            "10s",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    // Replayed: records 0..=109 (times 0 to 10 s); read: up to record 110,
    // the first one after the end. Sizes 0 among them: 3, 10, ..., 108.
    assert!(printed.contains("skipped 16 × size 0"), "{printed}");
    assert!(!printed.contains("stepped back"), "{printed}");
    let column = |name: &str| run_column(&out, name);
    assert_eq!(column("trace_skipped"), "16");
}
