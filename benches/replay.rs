//! Criterion benches of whole replays, front end to metrics: trace decoding
//! alone per format, the full Redis model (sampled allkeys-lru, TTLs, active
//! expiry, every metric) and the objects model with exact-lru replaying a
//! generated Zipf trace, `run workloads/mixed.toml`, and a sweep of 8
//! policies over one trace. The traces are generated into a temporary
//! directory (200,000 requests, 50,000 keys: the anchor's shape, small
//! enough to keep the bench quick); nothing is committed. Throughput is in
//! trace requests (or sweep runs) per second.

use clap::Parser;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use ttlsim::cli::run::RunArgs;
use ttlsim::cli::trace::generate::{generate, GenerateArgs, Params};
use ttlsim::sweep::cli::SweepArgs;
use ttlsim::workload::trace::{open, DecodedSource, DecodedTrace, RecBatch, TraceSource};

const REQUESTS: u64 = 200_000;
const KEYS: u64 = 50_000;

#[derive(Parser)]
struct Gen {
    #[command(flatten)]
    a: GenerateArgs,
}
#[derive(Parser)]
struct Run {
    #[command(flatten)]
    a: RunArgs,
}
#[derive(Parser)]
struct Sweep {
    #[command(flatten)]
    a: SweepArgs,
}

/// Writes the bench traces: oracle-general, ttlsim CSV (with TTLs) and twr
/// (written here from the same key stream).
fn traces(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let og = dir.join("anchor.oracleGeneral.bin");
    let csv = dir.join("anchor.csv");
    let (n, k) = (REQUESTS.to_string(), KEYS.to_string());
    for (path, to) in [(&og, "oracle-general"), (&csv, "ttlsim")] {
        let p = path.to_str().unwrap();
        let g = Gen::parse_from(["g", p, "--to", to, "--requests", &n, "--keys", &k]);
        generate(&g.a).unwrap();
    }
    let g = Gen::parse_from(["g", "x", "--to", "twr", "--requests", &n, "--keys", &k]);
    let params = Params::from_args(&g.a).unwrap();
    let twr = dir.join("anchor.twr");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&twr).unwrap());
    params
        .for_each_request(|t_ms, key| {
            let (size, ttl_ms) = params.key_attrs(key);
            w.write_all(&((t_ms / 1000) as u32).to_le_bytes())?;
            w.write_all(&key.to_le_bytes())?;
            w.write_all(&((10 << 22) | size.min(0x3f_ffff)).to_le_bytes())?;
            w.write_all(&((1u32 << 24) | (ttl_ms / 1000) as u32).to_le_bytes())?;
            Ok(())
        })
        .unwrap();
    w.flush().unwrap();
    (og, csv, twr)
}

fn drain(s: &mut dyn TraceSource) -> u64 {
    let mut n = 0;
    while let Some(r) = s.next_record().unwrap() {
        black_box(r.size);
        n += 1;
    }
    n
}

/// Reads `s` in blocks of compact records, as a replay does
/// (`TraceSource::next_batch`).
fn drain_batches(s: &mut dyn TraceSource) -> u64 {
    let mut b = RecBatch::default();
    let mut n = 0;
    loop {
        b.clear();
        assert!(s.next_batch(&mut b).unwrap(), "no compact form");
        if b.is_empty() {
            return n;
        }
        for r in &b.recs {
            black_box(r.size);
        }
        n += b.len() as u64;
    }
}

fn replay(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (og, csv, twr) = traces(dir.path());
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();

    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(REQUESTS));
    for (name, path) in [("oracle_general", &og), ("ttlsim_csv", &csv), ("twr", &twr)] {
        g.bench_function(name, |b| {
            b.iter(|| drain(&mut *open(path, None, None).unwrap()));
        });
    }
    let shared =
        Arc::new(DecodedTrace::decode(&mut *open(&og, None, None).unwrap(), 1 << 30).unwrap());
    g.bench_function("oracle_general_shared", |b| {
        b.iter(|| drain(&mut DecodedSource::new(Arc::clone(&shared))));
    });
    for (name, path) in [("oracle_general_blocks", &og), ("twr_blocks", &twr)] {
        g.bench_function(name, |b| {
            b.iter(|| drain_batches(&mut *open(path, None, None).unwrap()));
        });
    }
    g.bench_function("oracle_general_shared_blocks", |b| {
        b.iter(|| drain_batches(&mut DecodedSource::new(Arc::clone(&shared))));
    });
    g.finish();

    let mut g = c.benchmark_group("replay");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(REQUESTS));
    let og_s = og.to_str().unwrap();
    let runs: [(&str, Vec<&str>); 3] = [
        (
            "full_model_allkeys_lru",
            vec![
                "--maxmemory",
                "6000000",
                "--maxmemory-policy",
                "allkeys-lru",
            ],
        ),
        (
            "full_model_allkeys_lru_ttls_csv",
            vec![
                "--maxmemory",
                "6000000",
                "--maxmemory-policy",
                "allkeys-lru",
            ],
        ),
        (
            "objects_exact_lru",
            vec![
                "--memory-model",
                "objects",
                "--maxmemory",
                "4000000",
                "--maxmemory-policy",
                "exact-lru",
            ],
        ),
    ];
    for (i, (name, flags)) in runs.iter().enumerate() {
        let trace = if i == 1 { csv.to_str().unwrap() } else { og_s };
        let mut argv = vec!["run", "--trace", trace, "--out", out];
        argv.extend(flags);
        g.bench_function(*name, |b| {
            b.iter(|| ttlsim::cli::run::run(Run::parse_from(&argv).a).unwrap());
        });
    }
    g.finish();

    let mut g = c.benchmark_group("workload");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let mixed = concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/mixed.toml");
    g.bench_function("run_mixed_2m", |b| {
        let argv = [
            "run",
            mixed,
            "--duration",
            "2m",
            "--warmup",
            "30s",
            "--out",
            out,
        ];
        b.iter(|| ttlsim::cli::run::run(Run::parse_from(argv).a).unwrap());
    });
    g.finish();

    let mut g = c.benchmark_group("sweep");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(8));
    g.bench_function("8_policies_one_trace", |b| {
        let argv = [
            "sweep",
            "--trace",
            og_s,
            "--memory-model",
            "objects",
            "--maxmemory",
            "4000000",
            "--maxmemory-policy",
            "exact-lru,fifo,sieve,s3-fifo,lru-2,arc,exact-lfu,allkeys-lru",
            "--jobs",
            "2",
            "--no-report",
            "--out",
            out,
        ];
        b.iter(|| ttlsim::sweep::cli::sweep(&Sweep::parse_from(argv).a).unwrap());
    });
    g.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
