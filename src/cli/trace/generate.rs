//! `ttlsim trace generate OUT --to ttlsim|oracle-general`: a synthetic
//! cache trace, the replay-speed benchmark's anchor.
//!
//! Defaults: 10,000,000 requests to 1,000,000 keys, Zipf(0.99) popularity,
//! one request per ms (request *i* at *i* ms), seed 1. Key *k* (0-based)
//! is the (*k*+1)-th most popular (`rand_distr::Zipf` rank − 1) and is
//! written as id *k* (oracle-general) or `obj:<k>` (ttlsim, which
//! `convert` maps back to id *k*). Each key's value size and TTL are fixed
//! and derived from the seed and the key alone (a PCG stream seeded by a
//! SplitMix64 hash of both), never stored: size lognormal with median
//! `--size-median` (256 B) and sigma `--size-sigma` (1), rounded, at least
//! 1 B; with probability `--ttl-fraction` (0.7) a TTL uniform in
//! [`--ttl-min`, `--ttl-max`] (60 s – 3600 s) at ms resolution, otherwise
//! none. Every request is a filling `get` (a cache trace: a miss writes the
//! key with its size and TTL).
//!
//! oracle-general cannot hold a TTL: with `--to oracle-general` they are
//! dropped (and the command says so); ttlsim's CSV keeps them. The same
//! arguments give byte-identical files, and `generate --to ttlsim` then
//! `convert --to oracle-general` gives exactly `generate --to
//! oracle-general`.
//!
//! Memory: ttlsim output streams in constant memory; oracle-general output
//! holds 8 bytes per request (the next-access pass of
//! [`OracleGeneralOut`]: 80 MB at 10 M) plus a map entry per distinct key.

use anyhow::{bail, Result};
use clap::Args;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal, Zipf};
use rand_pcg::{Pcg64, Pcg64Mcg};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use super::{OracleGeneralOut, Target};
use crate::say;
use crate::units::{AtomicFile, Dur};
use crate::workload::trace::{HEADER, MAX_TTL_MS};

/// Largest `--requests` and `--keys`.
pub const MAX_COUNT: u64 = 10_000_000_000;

/// `ttlsim trace generate` arguments.
#[derive(Args)]
pub struct GenerateArgs {
    /// The file to write.
    pub output: PathBuf,
    /// The format to write: ttlsim or oracle-general.
    #[arg(long, value_name = "FORMAT")]
    pub to: String,
    /// Requests (1 ms apart).
    #[arg(long, default_value_t = 10_000_000)]
    pub requests: u64,
    /// Distinct keys to draw from.
    #[arg(long, default_value_t = 1_000_000)]
    pub keys: u64,
    /// Zipf exponent of key popularity (0: uniform).
    #[arg(long, default_value_t = 0.99, allow_hyphen_values = true)]
    pub zipf: f64,
    /// Seed: the same seed and arguments give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fraction of keys with a TTL (0..1).
    #[arg(long, default_value_t = 0.7, allow_hyphen_values = true)]
    pub ttl_fraction: f64,
    /// Shortest TTL (a duration: 60s, 10m, ...).
    #[arg(long, default_value = "60s")]
    pub ttl_min: String,
    /// Longest TTL.
    #[arg(long, default_value = "3600s")]
    pub ttl_max: String,
    /// Median value size in bytes (sizes are lognormal).
    #[arg(long, default_value_t = 256)]
    pub size_median: u64,
    /// Sigma of the value sizes' lognormal (of ln bytes).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub size_sigma: f64,
}

/// Checked generator parameters.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Requests.
    pub requests: u64,
    /// Keys.
    pub keys: u64,
    /// Zipf exponent.
    pub zipf: f64,
    /// Seed.
    pub seed: u64,
    /// Fraction of keys with a TTL.
    pub ttl_fraction: f64,
    /// Shortest TTL, ms.
    pub ttl_min_ms: u64,
    /// Longest TTL, ms.
    pub ttl_max_ms: u64,
    /// ln of the median size.
    pub size_mu: f64,
    /// Sigma of ln size.
    pub size_sigma: f64,
}

impl Params {
    /// Checks the arguments; every refusal happens before anything is written.
    pub fn from_args(a: &GenerateArgs) -> Result<Params> {
        for (name, v) in [("--requests", a.requests), ("--keys", a.keys)] {
            if v == 0 || v > MAX_COUNT {
                bail!("{name} must be between 1 and {MAX_COUNT} (got {v})");
            }
        }
        if !(a.zipf.is_finite() && (0.0..=100.0).contains(&a.zipf)) {
            bail!("--zipf must be a number from 0 to 100 (got {})", a.zipf);
        }
        if !(0.0..=1.0).contains(&a.ttl_fraction) {
            bail!(
                "--ttl-fraction must be between 0 and 1 (got {})",
                a.ttl_fraction
            );
        }
        let dur = |name: &str, s: &str| -> Result<u64> {
            let d = Dur::parse(s).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            if d.ms() == 0 || d.ms() > MAX_TTL_MS {
                bail!("{name} must be between 1ms and {MAX_TTL_MS}ms (got {s})");
            }
            Ok(d.ms())
        };
        let (lo, hi) = (dur("--ttl-min", &a.ttl_min)?, dur("--ttl-max", &a.ttl_max)?);
        if lo > hi {
            bail!(
                "--ttl-min ({}) must not exceed --ttl-max ({})",
                a.ttl_min,
                a.ttl_max
            );
        }
        if a.size_median == 0 || a.size_median > u64::from(u32::MAX) {
            bail!(
                "--size-median must be between 1 and {} bytes (got {})",
                u32::MAX,
                a.size_median
            );
        }
        if !(a.size_sigma.is_finite() && (0.0..=10.0).contains(&a.size_sigma)) {
            bail!(
                "--size-sigma must be a number from 0 to 10 (got {})",
                a.size_sigma
            );
        }
        Ok(Params {
            requests: a.requests,
            keys: a.keys,
            zipf: a.zipf,
            seed: a.seed,
            ttl_fraction: a.ttl_fraction,
            ttl_min_ms: lo,
            ttl_max_ms: hi,
            size_mu: (a.size_median as f64).ln(),
            size_sigma: a.size_sigma,
        })
    }

    /// Key `k`'s value size and TTL (ms, 0: none), from the seed and `k`.
    pub fn key_attrs(&self, k: u64) -> (u32, u64) {
        let mut rng = Pcg64Mcg::seed_from_u64(splitmix64(self.seed ^ splitmix64(k)));
        let z: f64 = StandardNormal.sample(&mut rng);
        let size = (self.size_mu + self.size_sigma * z)
            .exp()
            .round()
            .clamp(1.0, f64::from(u32::MAX)) as u32;
        let ttl = if rng.gen::<f64>() < self.ttl_fraction {
            rng.gen_range(self.ttl_min_ms..=self.ttl_max_ms)
        } else {
            0
        };
        (size, ttl)
    }

    /// Calls `f(time_ms, key)` for every request, in order.
    pub fn for_each_request(&self, mut f: impl FnMut(u64, u64) -> Result<()>) -> Result<()> {
        let zipf = Zipf::new(self.keys, self.zipf)
            .map_err(|e| anyhow::anyhow!("--zipf {}: {e:?}", self.zipf))?;
        let mut rng = Pcg64::seed_from_u64(self.seed);
        for i in 0..self.requests {
            let rank: f64 = zipf.sample(&mut rng);
            let k = (rank as u64).clamp(1, self.keys) - 1;
            f(i, k)?;
        }
        Ok(())
    }
}

/// SplitMix64's output function.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Runs `ttlsim trace generate`.
pub fn generate(args: &GenerateArgs) -> Result<()> {
    let target = Target::parse(&args.to)?;
    let p = Params::from_args(args)?;
    let out = &args.output;
    match target {
        Target::Ttlsim => {
            let file = AtomicFile::sole(out)?;
            let mut w = BufWriter::with_capacity(1 << 20, file.reopen()?);
            let cannot = |e: std::io::Error| anyhow::anyhow!("cannot write {}: {e}", out.display());
            writeln!(w, "{HEADER}").map_err(cannot)?;
            p.for_each_request(|t, k| {
                let (size, ttl) = p.key_attrs(k);
                writeln!(w, "{t},get,obj:{k},{size},{ttl}").map_err(cannot)
            })?;
            w.flush().map_err(cannot)?;
            drop(w);
            file.commit()?;
        }
        Target::OracleGeneral => {
            let mut w = OracleGeneralOut::new(out, Some(p.requests))?;
            p.for_each_request(|t, k| {
                let (size, _) = p.key_attrs(k);
                // At most 10^10 ms: 10^7 s fits a u32.
                w.push(u32::try_from(t / 1000).unwrap_or(u32::MAX), k, size)
            })?;
            w.finish()?;
        }
    }
    say!(
        "wrote {} requests to {} ({}): {} keys, Zipf({}), seed {}, sizes lognormal (median {} B, sigma {}), {}",
        p.requests,
        out.display(),
        match target {
            Target::Ttlsim => "ttlsim",
            Target::OracleGeneral => "oracle-general",
        },
        p.keys,
        args.zipf,
        p.seed,
        args.size_median,
        args.size_sigma,
        if p.ttl_fraction == 0.0 {
            "no TTLs".to_string()
        } else {
            format!(
                "{}% of keys with a TTL of {}-{}",
                crate::units::fmt_f64(p.ttl_fraction * 100.0),
                args.ttl_min,
                args.ttl_max
            )
        }
    )?;
    if target == Target::OracleGeneral && p.ttl_fraction > 0.0 {
        say!("  TTLs dropped: oracle-general cannot hold a TTL (write --to ttlsim to keep them)")?;
    }
    Ok(())
}
