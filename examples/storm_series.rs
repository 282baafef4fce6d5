//! Prints the model's expiry-storm time series (t_ms, stale, keys) for one
//! configuration, to compare with tests/data/storm_redis_timeseries.csv.
//! Usage: storm_series HZ EFFORT

use ttlsim::fidelity::storm;
use ttlsim::store::Config;

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u32>().expect("a number"));
    let hz = args.next().unwrap_or(10);
    let effort = args.next().unwrap_or(1);
    let text = std::fs::read_to_string("tests/data/storm_offsets_seed42.csv").expect("offsets");
    let offsets: Vec<u64> = text.lines().skip(1).map(|l| l.parse().unwrap()).collect();
    let cfg = Config {
        hz,
        active_expire_effort: effort,
        ..Config::default()
    };
    let (samples, summary) = storm::run(cfg, 42, &offsets, 100, 12_000);
    println!("t_ms,keys,live,stale");
    for s in samples {
        println!("{},{},{},{}", s.t_ms, s.keys, s.live, s.stale);
    }
    eprintln!("{summary:?}");
}
