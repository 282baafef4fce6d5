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
/// computed by the same `powf`, and the other two `powf`s skipped where
/// bounds decide the draw for certain (see [`ZipfRanks::sample`]): most
/// draws take none, and every run's output is unchanged (a test compares
/// the two samplers draw by draw).
#[derive(Clone, Debug)]
pub struct ZipfRanks {
    s: f64,
    t: f64,
    q: f64,
    /// Ranks tabled: `min(n, TABLE)`.
    ranks: usize,
    /// The exponent's tables, shared.
    tables: std::sync::Arc<ZipfTables>,
}

/// What a Zipf exponent's draws look up, the same for every `n`: built
/// once per exponent in the process (a sweep's runs share them) instead of
/// some 33,000 `powf`s per sampler per run.
#[derive(Debug)]
struct ZipfTables {
    /// `(x as f64).powf(-s)` for x = 1 ..= [`ZipfRanks::TABLE`].
    neg_pow: Vec<f64>,
    /// `floor(inv_b)` without `powf` where it is sure, for k below the
    /// table's last rank.
    guide: Option<FloorGuide>,
}

impl ZipfTables {
    /// Exponents whose tables the process keeps (each ~400 KB); more are
    /// built per sampler.
    const KEPT: usize = 64;

    /// The tables of exponent `s`, from the process's cache.
    fn of(s: f64) -> std::sync::Arc<ZipfTables> {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex, OnceLock};
        static CACHE: OnceLock<Mutex<HashMap<u64, Arc<ZipfTables>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(t) = cache.lock().ok().and_then(|c| c.get(&s.to_bits()).cloned()) {
            return t;
        }
        let table = ZipfRanks::TABLE as usize;
        let t = Arc::new(ZipfTables {
            neg_pow: (1..=table).map(|x| (x as f64).powf(-s)).collect(),
            guide: FloorGuide::new(s, table - 1),
        });
        if let Ok(mut c) = cache.lock() {
            if c.len() < Self::KEPT {
                c.insert(s.to_bits(), Arc::clone(&t));
            }
        }
        t
    }
}

/// Finds `k = floor(inv_b)` of a draw (1 <= k < the tabled ranks) from
/// `pt` alone, without the `powf` (or `exp`) of the inverse CDF, where it
/// is sure.
///
/// `inv_b` grows with a value `v` that costs a multiply and an add (`u =
/// pt(1-s) + s`, the very operands `powf` gets: `v = u` for s < 1, `-u` for
/// s > 1; `v = pt - 1`, the operand of `exp`, for s = 1). `inv_b >= k`
/// where `v` passes `k^(1-s)` (or `ln k`), so each `k` owns an interval of
/// `v`, kept here shrunk by a margin of 2^-40 at both ends: a `v` inside
/// is at least `|q|`·2^-40 (q = 1/(1-s), |q| >= 1/9 for s <= 10) from
/// where `inv_b` crosses an integer, some 2^9 times the rounding of
/// `powf`, `exp` and the thresholds together, so `floor(inv_b + 1)` is
/// `k + 1` for certain. A `v` in a margin is left to the exact path.
#[derive(Clone, Debug)]
struct FloorGuide {
    /// How `v` is made from `pt`.
    form: GuideForm,
    /// `1 - s` and `s`, the operands of `u`.
    one_minus_s: f64,
    s: f64,
    /// The interval of `v` owned by `k`, at index `k - 1`.
    bounds: Vec<(f64, f64)>,
    /// The first cell's start and the cells per unit of `v`.
    v0: f64,
    per_v: f64,
    /// Per cell, from one before the first, the index in `bounds` of the
    /// first interval reaching its start.
    cells: Vec<u32>,
}

/// The three forms of `rand_distr`'s inverse CDF.
#[derive(Clone, Copy, Debug, PartialEq)]
enum GuideForm {
    /// s < 1: `inv_b = u^q`, growing with `u`.
    Below1,
    /// s > 1: `inv_b = u^q` with q < 0, growing as `u` falls.
    Above1,
    /// s = 1: `inv_b = exp(pt - 1)`.
    One,
}

impl FloorGuide {
    /// Cells of the guide.
    const CELLS: usize = 4096;

    /// The guide for exponent `s` and ranks `k` up to `k_max` (>= 1).
    fn new(s: f64, k_max: usize) -> Option<FloorGuide> {
        if k_max == 0 || !(0.0..=10.0).contains(&s) {
            return None;
        }
        const EPS: f64 = 1.0 / (1u64 << 40) as f64;
        let form = match s {
            s if s < 1.0 => GuideForm::Below1,
            s if s > 1.0 => GuideForm::Above1,
            _ => GuideForm::One,
        };
        let threshold = |k: usize| {
            let k = k as f64;
            match form {
                GuideForm::Below1 => k.powf(1.0 - s),
                GuideForm::Above1 => -k.powf(1.0 - s),
                GuideForm::One => k.ln(),
            }
        };
        let thresholds: Vec<f64> = (1..=k_max + 1).map(threshold).collect();
        let bounds: Vec<(f64, f64)> = thresholds
            .windows(2)
            .map(|w| match form {
                GuideForm::Below1 => (w[0] * (1.0 + EPS), w[1] * (1.0 - EPS)),
                GuideForm::Above1 => (w[0] * (1.0 - EPS), w[1] * (1.0 + EPS)),
                GuideForm::One => (w[0] + EPS, w[1] - EPS),
            })
            .collect();
        let v0 = bounds[0].0;
        let span = bounds[k_max - 1].1 - v0;
        if span.is_nan() || span <= 0.0 {
            return None;
        }
        let per_v = Self::CELLS as f64 / span;
        // Per cell from one before the first, the index of the first
        // interval reaching its start (a search spans a cell either side,
        // for a draw rounded into the wrong one).
        let cells = (0..Self::CELLS + 3)
            .map(|c| {
                let start = v0 + (c as f64 - 1.0) / per_v;
                bounds.partition_point(|&(_, hi)| hi < start) as u32
            })
            .collect();
        Some(FloorGuide {
            form,
            one_minus_s: 1.0 - s,
            s,
            bounds,
            v0,
            per_v,
            cells,
        })
    }

    /// `floor(inv_b)` of the draw at `pt` (> 1), if sure.
    #[inline]
    fn floor(&self, pt: f64) -> Option<usize> {
        let v = match self.form {
            GuideForm::Below1 => pt * self.one_minus_s + self.s,
            GuideForm::Above1 => -(pt * self.one_minus_s + self.s),
            GuideForm::One => pt - 1.0,
        };
        let c = (v - self.v0) * self.per_v;
        if !(c >= 0.0 && c < Self::CELLS as f64) {
            return None;
        }
        // The first interval reaching `v` lies between the first reaching
        // the cell before and the first reaching the cell after next.
        let c = c as usize;
        let from = self.cells[c] as usize;
        let to = (self.cells[c + 3] as usize + 1).min(self.bounds.len());
        let near = &self.bounds[from..to];
        let i = near.partition_point(|&(_, hi)| hi < v);
        let &(lo, _) = near.get(i)?;
        (v >= lo).then_some(from + i + 1)
    }
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
        ZipfRanks {
            s,
            t,
            q,
            ranks: n.min(Self::TABLE) as usize,
            tables: ZipfTables::of(s),
        }
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
    /// thousands of times the rounding of either side). Where the
    /// [`FloorGuide`] also knows `x` for sure, such a draw takes no `powf`
    /// at all. (`y` is drawn right after `p`, as `rand_distr` draws it:
    /// the inverse CDF between them draws nothing.)
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        const MARGIN: f64 = 1.0 - 1.0 / (1u64 << 40) as f64;
        loop {
            let p: f64 = rng.sample(rand::distributions::Standard);
            let y: f64 = rng.sample(rand::distributions::Standard);
            let pt = p * self.t;
            let neg_pow = &self.tables.neg_pow[..self.ranks];
            if pt > 1.0 {
                let guide = self.tables.guide.as_ref();
                // x = k + 1 >= 2, tabled: the same bound as below.
                if let Some(k) = guide.and_then(|g| g.floor(pt)).filter(|&k| k < self.ranks) {
                    if y < neg_pow[k] / neg_pow[k - 1] * MARGIN {
                        return (k + 1) as f64;
                    }
                }
            }
            let inv_b = self.inv_cdf(p);
            let x = (inv_b + 1.0).floor();
            let i = (x as usize).wrapping_sub(1);
            let (mut ratio, lower) = match neg_pow.get(i) {
                // (x-1)^s / x^s, from the table (x >= 2 here).
                Some(&r) if i > 0 => (r, r / neg_pow[i - 1]),
                Some(&r) => (r, 1.0),
                // Bernoulli: ((x-1)/x)^s >= 1 - max(s, 1)/x.
                None => (x.powf(-self.s), 1.0 - self.s.max(1.0) / x),
            };
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

    /// The guide's `floor(inv_b)` is the exact path's wherever it answers,
    /// and it answers for nearly every draw within the table.
    #[test]
    fn the_floor_guide_is_sure_and_mostly_answers() {
        for &n in &[2u64, 1_000, 1_000_000] {
            for &s in &[0.0, 0.01, 0.5, 0.99, 1.0, 1.1, 2.0, 3.0, 10.0] {
                let z = ZipfRanks::new(n, s);
                let g = z.tables.guide.as_ref().expect("a guide");
                let k_max = z.ranks - 1;
                let mut rng = Pcg64Mcg::seed_from_u64(n ^ s.to_bits());
                let (mut within, mut answered) = (0u32, 0u32);
                for _ in 0..200_000 {
                    let p: f64 = rng.gen();
                    let pt = p * z.t;
                    if pt <= 1.0 {
                        continue;
                    }
                    let exact = (z.inv_cdf(p) + 1.0).floor() as usize - 1;
                    if let Some(k) = g.floor(pt).filter(|&k| k <= k_max) {
                        assert_eq!(k, exact, "n {n} s {s} p {p}");
                        answered += 1;
                    }
                    within += u32::from((1..=k_max).contains(&exact));
                }
                assert!(
                    f64::from(answered) >= 0.99 * f64::from(within),
                    "n {n} s {s}: {answered} of {within}"
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
