//! The sweep-flag parser: `--maxmemory`, `--maxmemory-policy`, `--seed`
//! ranges, `--duration`, `--warmup`, `--param NAME=V1,V2`, percentages,
//! groups, shards, `--jobs` and `--sample-interval`, built into a grid whose
//! every point is then listed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ttlsim::sweep::grid::{Grid, Shard};

const NAMES: [&str; 12] = [
    "maxmemory",
    "maxmemory-policy",
    "maxmemory-samples",
    "maxmemory-eviction-tenacity",
    "hz",
    "active-expire-effort",
    "lfu-log-factor",
    "lfu-decay-time",
    "memory-model",
    "seed",
    "duration",
    "warmup",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut dims: Vec<(String, Vec<String>)> = Vec::new();
    for (i, line) in text.lines().take(16).enumerate() {
        match line.split_once('=') {
            Some((k, v)) if i % 2 == 1 => dims.push((k.to_string(), vec![v.to_string()])),
            _ => dims.push((NAMES[i % NAMES.len()].to_string(), vec![line.to_string()])),
        }
    }
    let _ = text.parse::<Shard>();
    let _ = ttlsim::limits::sample_interval(text);
    if let Ok(j) = text.trim().parse::<usize>() {
        let _ = ttlsim::limits::check_jobs(j);
    }
    if let Ok((mut grid, _)) = Grid::build_with_notes(None, &dims) {
        if let Ok(n) = grid.check_size(10_000) {
            grid.resolve_percentages(1 << 30);
            for i in 0..n.min(100) {
                let _ = grid.point(i);
            }
            if n <= 100 {
                let runner = ttlsim::sweep::synthetic::SyntheticRunner::default();
                let _ = ttlsim::sweep::exec::grid_csv(&grid, &runner);
            }
        }
    }
});
