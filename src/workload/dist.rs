//! Building blocks of workloads: durations, key popularity, value sizes,
//! delays and arrival processes.
//!
//! Each block has a serde form (an inline TOML table with a `kind`, such as
//! `{ kind = "zipf", s = 0.99 }`; its valid ranges live in the field registry
//! `spec::schema`, which the reader checks before a run starts), and a sampler that draws from
//! a seeded generator without allocating.

use rand::distributions::{Distribution, WeightedIndex};
use rand::Rng;
use rand_distr::{Exp, LogNormal};
use serde::{Deserialize, Serialize};

use crate::units::{Dur, Micros};

/// Highest arrival rate a pattern may ask for (requests per second): far
/// above what one simulated client needs, and low enough that the clock always
/// advances between arrivals and a run ends. The field registry
/// (`spec::schema`) enforces it.
pub const MAX_RATE: f64 = 1e7;

// ----- popularity -------------------------------------------------------

/// Which key of `keys` a request touches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Popularity {
    /// Every key equally likely.
    Uniform,
    /// Zipf with exponent `s`: key 0 is the most popular (rank order).
    Zipf {
        /// Exponent (0 = uniform, ~1 = typical web caches).
        s: f64,
    },
    /// Zipf whose popular keys are spread over the key space (YCSB's
    /// scrambled Zipfian), by a fixed affine permutation of the ranks.
    ScrambledZipf {
        /// Exponent.
        s: f64,
    },
    /// A hot set: `hot_share` of requests go to the first `hot_fraction` of
    /// keys, the rest uniformly to the others.
    Hotspot {
        /// Fraction of keys that are hot (0..1).
        hot_fraction: f64,
        /// Fraction of requests that go to the hot keys (0..1).
        hot_share: f64,
    },
    /// A miniature's sample of another popularity's keys (built by
    /// `workload::sample`, never read from a file): each sampled key
    /// carries the request share of the ranks it stands for.
    #[serde(skip)]
    Sampled(SampledKeys),
}

/// The keys a miniature keeps of a popularity and their request shares
/// (see [`crate::workload::sample`]).
#[derive(Clone, Debug)]
pub struct SampledKeys {
    /// The popularity sampled: what the miniature stands for, and what its
    /// `param_` columns show.
    pub source: Box<Popularity>,
    /// Key numbers kept (numbers of the full key space).
    pub keys: std::sync::Arc<[u64]>,
    /// Cumulative request share of `keys`, ending at 1.
    pub cdf: std::sync::Arc<[f64]>,
}

impl PartialEq for SampledKeys {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.keys == other.keys && self.cdf == other.cdf
    }
}

impl Popularity {
    /// A sampler over `n` keys.
    pub fn sampler(&self, n: u64) -> KeySampler {
        let n = n.max(1);
        let zipf = |s: f64| ZipfRanks::new(n, s);
        match *self {
            Popularity::Uniform => KeySampler::Uniform(n),
            Popularity::Zipf { s } => KeySampler::Zipf(zipf(s), n, None),
            Popularity::ScrambledZipf { s } => {
                // An affine map x -> (a x + b) mod n with gcd(a, n) = 1 is a
                // bijection: ranks are spread without a table.
                let mut a = ((n / 2 + 0x9E37_79B9) % n.max(2)) | 1;
                while gcd(a, n) != 1 {
                    a += 2;
                }
                KeySampler::Zipf(zipf(s), n, Some((a % n, n / 3)))
            }
            Popularity::Hotspot {
                hot_fraction,
                hot_share,
            } => {
                let hot = ((n as f64 * hot_fraction).round() as u64).clamp(0, n);
                KeySampler::Hotspot { n, hot, hot_share }
            }
            Popularity::Sampled(ref k) => KeySampler::Table(k.keys.clone(), k.cdf.clone()),
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Zipf ranks drawn exactly as `rand_distr` 0.4's `Zipf<f64>` draws them
/// (its rejection-inversion sampler, the same floating-point operations in
/// the same order, so the same draws from the same generator), with
/// `x^-s` of the first [`ZipfRanks::TABLE`] ranks read from a table
/// computed by the same `powf` instead of computed per draw: one `powf`
/// of the three per draw saved, and every run's output unchanged (a test
/// compares the two samplers draw by draw).
#[derive(Clone, Debug)]
pub struct ZipfRanks {
    s: f64,
    t: f64,
    q: f64,
    /// `(x as f64).powf(-s)` for x = 1, 2, ...
    neg_pow: std::sync::Arc<[f64]>,
}

impl ZipfRanks {
    /// Ranks whose `x^-s` are tabled.
    pub const TABLE: u64 = 1 << 14;

    /// Zipf over `n` ranks (at least 1) with exponent `s` (validated >= 0).
    pub fn new(n: u64, s: f64) -> Self {
        let n = n.max(1);
        let nf = n as f64;
        let q = if s != 1.0 { 1.0 / (1.0 - s) } else { 0.0 };
        let t = if s != 1.0 {
            (nf.powf(1.0 - s) - s) * q
        } else {
            1.0 + nf.ln()
        };
        let neg_pow = (1..=n.min(Self::TABLE))
            .map(|x| (x as f64).powf(-s))
            .collect();
        ZipfRanks { s, t, q, neg_pow }
    }

    /// `rand_distr`'s inverse cumulative density.
    #[inline]
    fn inv_cdf(&self, p: f64) -> f64 {
        let pt = p * self.t;
        if pt <= 1.0 {
            pt
        } else if self.s != 1.0 {
            (pt * (1.0 - self.s) + self.s).powf(self.q)
        } else {
            (pt - 1.0).exp()
        }
    }

    /// One rank, 1-based, as a float (what `Zipf::sample` returns).
    ///
    /// `rand_distr` accepts `x` when `y < x^-s · inv_b^s`. As
    /// `x - 1 <= inv_b < x`, that ratio is at least `((x-1)/x)^s`; a `y`
    /// clearly below that bound is accepted without the second `powf`,
    /// which decides the same as computing it (the margin, 2^-40, is
    /// thousands of times the rounding of either side).
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        const MARGIN: f64 = 1.0 - 1.0 / (1u64 << 40) as f64;
        loop {
            let inv_b = self.inv_cdf(rng.sample(rand::distributions::Standard));
            let x = (inv_b + 1.0).floor();
            let i = (x as usize).wrapping_sub(1);
            let (mut ratio, lower) = match self.neg_pow.get(i) {
                // (x-1)^s / x^s, from the table (x >= 2 here).
                Some(&r) if i > 0 => (r, r / self.neg_pow[i - 1]),
                Some(&r) => (r, 1.0),
                // Bernoulli: ((x-1)/x)^s >= 1 - max(s, 1)/x.
                None => (x.powf(-self.s), 1.0 - self.s.max(1.0) / x),
            };
            let y: f64 = rng.sample(rand::distributions::Standard);
            if x > 1.0 {
                if y < lower * MARGIN {
                    return x;
                }
                ratio *= inv_b.powf(self.s);
            }
            if y < ratio {
                return x;
            }
        }
    }
}

/// Draws key numbers in `0..n` from a [`Popularity`].
#[derive(Clone, Debug)]
pub enum KeySampler {
    /// Uniform over `0..n`.
    Uniform(u64),
    /// Zipf ranks over `n` keys, optionally permuted by `(a, b)`:
    /// `(a·rank + b) mod n`.
    Zipf(ZipfRanks, u64, Option<(u64, u64)>),
    /// Hot set.
    Hotspot {
        /// Keys.
        n: u64,
        /// Hot keys (the first `hot`).
        hot: u64,
        /// Share of requests to hot keys.
        hot_share: f64,
    },
    /// A miniature's sampled keys and their cumulative shares.
    Table(std::sync::Arc<[u64]>, std::sync::Arc<[f64]>),
}

impl KeySampler {
    /// One key number.
    #[inline]
    pub fn sample<R: Rng>(&self, rng: &mut R) -> u64 {
        match *self {
            KeySampler::Uniform(n) => rng.gen_range(0..n),
            KeySampler::Zipf(ref z, n, perm) => {
                let rank = (z.sample(rng) as u64).clamp(1, n) - 1;
                match perm {
                    None => rank,
                    Some((a, b)) => ((a as u128 * rank as u128 + b as u128) % n as u128) as u64,
                }
            }
            KeySampler::Hotspot { n, hot, hot_share } => {
                if hot > 0 && (hot == n || rng.gen::<f64>() < hot_share) {
                    rng.gen_range(0..hot)
                } else {
                    rng.gen_range(hot..n)
                }
            }
            KeySampler::Table(ref keys, ref cdf) => {
                let u = rng.gen::<f64>();
                keys[cdf.partition_point(|&c| c <= u).min(keys.len() - 1)]
            }
        }
    }
}

// ----- sizes -------------------------------------------------------------

/// Value sizes in bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SizeDist {
    /// Always `bytes`.
    Fixed {
        /// Size in bytes.
        bytes: u32,
    },
    /// Uniform in `min..=max`.
    Uniform {
        /// Smallest size.
        min: u32,
        /// Largest size.
        max: u32,
    },
    /// Lognormal with the given median and shape, clamped to `1..=max`.
    Lognormal {
        /// Median size in bytes.
        median: f64,
        /// Shape (standard deviation of ln size).
        sigma: f64,
        /// Upper clamp (default 1 MiB).
        #[serde(default)]
        max: Option<u32>,
    },
    /// An empirical table: `sizes[i]` with probability proportional to `weights[i]`.
    Table {
        /// Sizes in bytes.
        sizes: Vec<u32>,
        /// Relative weights.
        weights: Vec<f64>,
    },
}

impl SizeDist {
    /// The sampler.
    pub fn sampler(&self) -> SizeSampler {
        match self {
            SizeDist::Fixed { bytes } => SizeSampler::Fixed(*bytes),
            SizeDist::Uniform { min, max } => SizeSampler::Uniform(*min, *max),
            SizeDist::Lognormal { median, sigma, max } => SizeSampler::Lognormal(
                LogNormal::new(median.ln(), *sigma).expect("validated lognormal"),
                max.unwrap_or(1 << 20),
            ),
            SizeDist::Table { sizes, weights } => SizeSampler::Table(
                sizes.clone(),
                WeightedIndex::new(weights).expect("validated table"),
            ),
        }
    }
}

/// Draws value sizes.
#[derive(Clone, Debug)]
pub enum SizeSampler {
    /// Constant.
    Fixed(u32),
    /// Uniform in `min..=max`.
    Uniform(u32, u32),
    /// Lognormal with a clamp.
    Lognormal(LogNormal<f64>, u32),
    /// Empirical.
    Table(Vec<u32>, WeightedIndex<f64>),
}

impl SizeSampler {
    /// One size (at least 1 byte).
    #[inline]
    pub fn sample<R: Rng>(&self, rng: &mut R) -> u32 {
        match self {
            SizeSampler::Fixed(b) => *b,
            SizeSampler::Uniform(a, b) => rng.gen_range(*a..=*b),
            SizeSampler::Lognormal(d, max) => (d.sample(rng).round() as u32).clamp(1, *max),
            SizeSampler::Table(sizes, w) => sizes[w.sample(rng)],
        }
    }
}

// ----- delays ------------------------------------------------------------

/// A random delay (think time, redemption delay, lock hold time).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DelayDist {
    /// Always `value`.
    Fixed {
        /// The delay.
        value: Dur,
    },
    /// Uniform in `min..=max`.
    Uniform {
        /// Shortest.
        min: Dur,
        /// Longest.
        max: Dur,
    },
    /// Exponential with the given mean (memoryless think times).
    Exponential {
        /// Mean delay.
        mean: Dur,
    },
    /// Lognormal with the given median and shape.
    Lognormal {
        /// Median delay.
        median: Dur,
        /// Shape (standard deviation of ln delay).
        sigma: f64,
    },
}

impl DelayDist {
    /// Mean delay in seconds.
    pub fn mean_secs(&self) -> f64 {
        match self {
            DelayDist::Fixed { value } => value.secs(),
            DelayDist::Uniform { min, max } => (min.secs() + max.secs()) / 2.0,
            DelayDist::Exponential { mean } => mean.secs(),
            DelayDist::Lognormal { median, sigma } => median.secs() * (sigma * sigma / 2.0).exp(),
        }
    }

    /// The sampler.
    pub fn sampler(&self) -> DelaySampler {
        match self {
            DelayDist::Fixed { value } => DelaySampler::Fixed(value.0),
            DelayDist::Uniform { min, max } => DelaySampler::Uniform(min.0, max.0),
            DelayDist::Exponential { mean } => {
                DelaySampler::Exp(Exp::new(1.0 / mean.0 as f64).expect("validated mean"))
            }
            DelayDist::Lognormal { median, sigma } => DelaySampler::Lognormal(
                LogNormal::new((median.0 as f64).ln(), *sigma).expect("validated lognormal"),
            ),
        }
    }
}

/// Draws delays in µs.
#[derive(Clone, Debug)]
pub enum DelaySampler {
    /// Constant.
    Fixed(Micros),
    /// Uniform.
    Uniform(Micros, Micros),
    /// Exponential (rate per µs).
    Exp(Exp<f64>),
    /// Lognormal (in µs).
    Lognormal(LogNormal<f64>),
}

impl DelaySampler {
    /// One delay in µs.
    #[inline]
    pub fn sample<R: Rng>(&self, rng: &mut R) -> Micros {
        match self {
            DelaySampler::Fixed(v) => *v,
            DelaySampler::Uniform(a, b) => rng.gen_range(*a..=*b),
            DelaySampler::Exp(d) => d.sample(rng).min(1e15) as Micros,
            DelaySampler::Lognormal(d) => d.sample(rng).min(1e15) as Micros,
        }
    }
}

// ----- arrivals ----------------------------------------------------------

/// When a client's requests (or logins, or campaigns) arrive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Arrival {
    /// Evenly spaced, `rate` per second.
    Constant {
        /// Arrivals per second.
        rate: f64,
    },
    /// A Poisson process, `rate` per second on average.
    Poisson {
        /// Arrivals per second.
        rate: f64,
    },
    /// Bursts of `count` arrivals, evenly spread over `spread`, starting at
    /// each time of `at`, or at `start` and then every `every`.
    Bursts {
        /// Burst start times (from the start of the run).
        #[serde(default)]
        at: Vec<Dur>,
        /// First burst when `every` is used.
        #[serde(default)]
        start: Dur,
        /// Period of repeated bursts.
        #[serde(default)]
        every: Option<Dur>,
        /// Arrivals per burst.
        count: u64,
        /// How long one burst lasts.
        #[serde(default)]
        spread: Dur,
    },
    /// A Poisson process whose rate follows a daily cycle:
    /// `rate · (1 + amplitude · cos(2π (t − peak) / period))`.
    Daily {
        /// Mean arrivals per second.
        rate: f64,
        /// Relative swing (0..1).
        amplitude: f64,
        /// Time of the peak within the period (e.g. "14h").
        #[serde(default)]
        peak: Dur,
        /// Period (default "24h").
        #[serde(default)]
        period: Option<Dur>,
    },
}

impl Arrival {
    /// Mean arrivals per second over `duration` (for reports and tests).
    pub fn mean_rate(&self, duration: Dur) -> f64 {
        match self {
            Arrival::Constant { rate }
            | Arrival::Poisson { rate }
            | Arrival::Daily { rate, .. } => *rate,
            Arrival::Bursts {
                at,
                start,
                every,
                count,
                ..
            } => {
                let d = duration.secs().max(1e-9);
                let bursts = match every {
                    Some(e) if duration.0 > start.0 => ((duration.0 - start.0) / e.0 + 1) as f64,
                    Some(_) => 0.0,
                    None => at.iter().filter(|t| t.0 < duration.0).count() as f64,
                };
                bursts * *count as f64 / d
            }
        }
    }

    /// A generator of arrival times.
    pub fn generator(&self) -> ArrivalGen {
        let mut at = match self {
            Arrival::Bursts { at, .. } => at.iter().map(|d| d.0).collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        at.sort_unstable();
        ArrivalGen {
            spec: self.clone(),
            t: 0.0,
            burst: 0,
            in_burst: 0,
            at,
        }
    }
}

/// Successive arrival times of an [`Arrival`], in µs from the start of the run.
#[derive(Clone, Debug)]
pub struct ArrivalGen {
    spec: Arrival,
    t: f64,
    burst: u64,
    in_burst: u64,
    at: Vec<Micros>,
}

impl ArrivalGen {
    /// The next arrival time (µs since the start of the run), or `None` when
    /// the process has no more arrivals.
    pub fn next<R: Rng>(&mut self, rng: &mut R) -> Option<f64> {
        match self.spec {
            Arrival::Constant { rate } => {
                self.t += 1e6 / rate;
                Some(self.t)
            }
            Arrival::Poisson { rate } => {
                self.t += -(1.0 - rng.gen::<f64>()).ln() * 1e6 / rate;
                Some(self.t)
            }
            Arrival::Daily {
                rate,
                amplitude,
                peak,
                period,
            } => {
                let period = period.unwrap_or(Dur(86_400_000_000)).0 as f64;
                let max = rate * (1.0 + amplitude);
                loop {
                    self.t += -(1.0 - rng.gen::<f64>()).ln() * 1e6 / max;
                    let phase = 2.0 * std::f64::consts::PI * (self.t - peak.0 as f64) / period;
                    let r = rate * (1.0 + amplitude * phase.cos());
                    if rng.gen::<f64>() * max <= r {
                        return Some(self.t);
                    }
                }
            }
            Arrival::Bursts {
                start,
                every,
                count,
                spread,
                ..
            } => {
                if self.in_burst == count {
                    self.in_burst = 0;
                    self.burst += 1;
                }
                let begin = match every {
                    Some(e) => start.0 + self.burst * e.0,
                    None => *self.at.get(self.burst as usize)?,
                };
                let t = begin as f64 + spread.0 as f64 * self.in_burst as f64 / count as f64;
                self.in_burst += 1;
                Some(t)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::fmt_f64;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    /// The tabled sampler draws what `rand_distr`'s Zipf draws, bit for bit,
    /// and leaves the generator where it leaves it (so every later draw of
    /// a run is unchanged too).
    #[test]
    fn zipf_ranks_draw_what_rand_distr_draws() {
        for &n in &[1u64, 2, 10, 1_000, 20_000, 1_000_000, 50_000_000] {
            for &s in &[0.0, 0.01, 0.5, 0.8, 0.99, 1.0, 1.1, 1.5, 2.0, 3.0] {
                let ours = ZipfRanks::new(n, s);
                let theirs = rand_distr::Zipf::new(n, s).unwrap();
                let (mut a, mut b) = (
                    Pcg64Mcg::seed_from_u64(n ^ 77),
                    Pcg64Mcg::seed_from_u64(n ^ 77),
                );
                for i in 0..100_000 {
                    let (x, y) = (ours.sample(&mut a), theirs.sample(&mut b));
                    assert_eq!(x.to_bits(), y.to_bits(), "n {n} s {s} draw {i}");
                }
                assert_eq!(
                    a.gen::<u64>(),
                    b.gen::<u64>(),
                    "n {n} s {s}: generators apart"
                );
            }
        }
    }

    #[test]
    fn durations() {
        assert_eq!(Dur::parse("30s").unwrap(), Dur(30_000_000));
        assert_eq!(Dur::parse("500ms").unwrap(), Dur(500_000));
        assert_eq!(Dur::parse("10m").unwrap(), Dur(600_000_000));
        assert_eq!(Dur::parse("1h").unwrap(), Dur(3_600_000_000));
        assert_eq!(Dur::parse("1.5s").unwrap(), Dur(1_500_000));
        assert!(Dur::parse("30").is_err());
        assert!(Dur::parse("-3s").is_err());
        assert!(Dur::parse("3 weeks").is_err());
        assert_eq!(Dur(600_000_000).to_string(), "10m");
        assert_eq!(Dur(1_500_000).to_string(), "1500ms");
    }

    #[test]
    fn floats_have_a_fixed_format() {
        assert_eq!(fmt_f64(1.0), "1");
        assert_eq!(fmt_f64(0.25), "0.25");
        assert_eq!(fmt_f64(1.0 / 3.0), "0.333333");
        assert_eq!(fmt_f64(-0.0000001), "0");
    }

    #[test]
    fn samplers_stay_in_range() {
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        for pop in [
            Popularity::Uniform,
            Popularity::Zipf { s: 0.99 },
            Popularity::ScrambledZipf { s: 1.2 },
            Popularity::Hotspot {
                hot_fraction: 0.1,
                hot_share: 0.9,
            },
        ] {
            let s = pop.sampler(1000);
            let mut seen = [0u32; 1000];
            for _ in 0..20_000 {
                seen[s.sample(&mut rng) as usize] += 1;
            }
            assert!(seen.iter().filter(|&&c| c > 0).count() > 100, "{pop:?}");
        }
        let z = Popularity::Zipf { s: 1.0 }.sampler(1000);
        let zeros = (0..10_000).filter(|_| z.sample(&mut rng) == 0).count();
        assert!(zeros > 1000, "key 0 is the most popular: {zeros}");
    }

    #[test]
    fn poisson_rate_is_right() {
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let mut g = Arrival::Poisson { rate: 100.0 }.generator();
        let mut n = 0;
        while g.next(&mut rng).unwrap() < 100e6 {
            n += 1;
        }
        assert!((9_500..10_500).contains(&n), "{n}");
    }

    #[test]
    fn bursts_repeat() {
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let a = Arrival::Bursts {
            at: vec![],
            start: Dur(1_000_000),
            every: Some(Dur(10_000_000)),
            count: 4,
            spread: Dur(4000),
        };
        let mut g = a.generator();
        let ts: Vec<f64> = (0..6).map(|_| g.next(&mut rng).unwrap()).collect();
        assert_eq!(ts, vec![1e6, 1.001e6, 1.002e6, 1.003e6, 11e6, 11.001e6]);
    }
}
