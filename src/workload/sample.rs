//! Miniature workloads (Waldspurger et al., "Cache Modeling and
//! Optimization using Miniature Simulations", ATC'17): the same traffic on a
//! sample of `rate` of the keys, to be run with `maxmemory` scaled by `rate`.
//!
//! * Keyed patterns (cache-aside, persistent, rate-limit, swr, locks) keep a
//!   systematic sample of their keys in popularity-rank order: one key in
//!   every `1/rate`, from an offset drawn from the seed. Each kept key takes
//!   the request share of the ranks it stands for, and the request rate is
//!   multiplied by `rate`. This is SHARDS's spatial sampling (FAST'15) made
//!   stratified: the hottest keys, which a hash sample keeps or drops by
//!   luck, are always represented by their share, so no salt search is
//!   needed. Kept keys keep their numbers, hence their names and sizes.
//! * Sessions and tokens have no fixed key set: their logins and campaigns
//!   are thinned to `rate` of their arrivals.
//! * A warm-up given as a request count is scaled by `rate`.
//!
//! What does not scale is corrected by the caller (`plan::mini`): the
//! server's fixed memory (baseline and client buffers) stays full-size, and
//! `rate` is a power of two so that Redis's power-of-two hash tables scale
//! exactly with the key count.

use std::sync::Arc;

use super::dist::{Arrival, Popularity, SampledKeys};
use super::spec::{PatternSpec, Warmup, Workload};

/// A popularity over `n` keys, sampled one rank in `1/rate` from `offset`
/// (0..1): each kept key carries the summed share of the ranks from the
/// previous kept one up to it.
pub fn sample_popularity(pop: &Popularity, n: u64, rate: f64, offset: f64) -> Popularity {
    let n = n.max(1);
    let base = pop.sampler(n);
    let rank_key = |r: u64| match &base {
        super::dist::KeySampler::Zipf(_, n, Some((a, b))) => {
            ((*a as u128 * r as u128 + *b as u128) % *n as u128) as u64
        }
        _ => r,
    };
    let weight = |r: u64| -> f64 {
        match *pop {
            Popularity::Zipf { s } | Popularity::ScrambledZipf { s } => ((r + 1) as f64).powf(-s),
            Popularity::Hotspot {
                hot_fraction,
                hot_share,
            } => {
                let hot = ((n as f64 * hot_fraction).round() as u64).clamp(0, n);
                if hot == n {
                    1.0 / n as f64
                } else if r < hot {
                    hot_share / hot as f64
                } else if hot == 0 {
                    1.0 / n as f64
                } else {
                    (1.0 - hot_share) / (n - hot) as f64
                }
            }
            _ => 1.0,
        }
    };
    let mut keys = Vec::with_capacity((n as f64 * rate) as usize + 2);
    let mut cdf = Vec::with_capacity(keys.capacity());
    let (mut acc, mut total) = (0.0, 0.0);
    for r in 0..n {
        acc += weight(r);
        // Rank r is kept when a multiple of 1 lies in [r·rate+o, (r+1)·rate+o).
        let lo = r as f64 * rate + offset;
        if ((lo + rate).floor() - lo.floor()) >= 1.0 {
            total += acc;
            acc = 0.0;
            keys.push(rank_key(r));
            cdf.push(total);
        }
    }
    if keys.is_empty() {
        keys.push(rank_key(0));
        cdf.push(0.0);
    }
    total += acc;
    let last = cdf.len() - 1;
    cdf[last] = total;
    for c in &mut cdf {
        *c /= total;
    }
    Popularity::Sampled(SampledKeys {
        source: Box::new(pop.clone()),
        keys: Arc::from(keys),
        cdf: Arc::from(cdf),
    })
}

/// The offset (for [`sample_popularity`]) among up to 32 candidates derived
/// from `offset` whose kept keys' value sizes, summed along the popularity
/// ranks, stay nearest the population's: a few thousand kept keys have their
/// own sizes, and where a curve is steep (memory full of keys that cannot be
/// evicted) a percent of memory at any point of the ranks matters, not only
/// in the total. Any offset represents the popularity equally well (each
/// kept key carries its stratum's share).
fn size_matched_offset(
    pop: &Popularity,
    n: u64,
    rate: f64,
    offset: f64,
    size: impl Fn(u64) -> f64,
) -> f64 {
    let n = n.max(1);
    let every = (1.0 / rate).round().max(1.0) as u64;
    if ((1.0 / rate) - every as f64).abs() > 1e-9 {
        return offset; // the kept ranks are not one residue class
    }
    let base = pop.sampler(n);
    let rank_key = |r: u64| match &base {
        super::dist::KeySampler::Zipf(_, n, Some((a, b))) => {
            ((*a as u128 * r as u128 + *b as u128) % *n as u128) as u64
        }
        _ => r,
    };
    // The bytes of each stratum (the `every` ranks a kept key stands for),
    // from at most 2^20 evenly spaced ranks.
    let step = (n >> 20).max(1);
    let strata = n.div_ceil(every) as usize;
    let mut want = vec![0.0f64; strata];
    let mut counted = vec![0u32; strata];
    for r in (0..n).step_by(step as usize) {
        let j = (r / every) as usize;
        want[j] += size(rank_key(r));
        counted[j] += 1;
    }
    for (w, c) in want.iter_mut().zip(&counted) {
        if *c > 0 {
            *w /= *c as f64;
        }
    }
    let total: f64 = want.iter().sum::<f64>().max(1.0);
    let candidates = every.min(32);
    let first = (offset * every as f64) as u64;
    (0..candidates)
        .map(|c| (first + c * (every / candidates)) % every)
        .map(|k| {
            // The largest gap, along the popularity ranks, between the
            // bytes the kept keys stand for and the population's: whichever
            // top share of the keys a memory size holds, the miniature then
            // holds as many bytes' worth.
            let (mut gap, mut worst) = (0.0f64, 0.0f64);
            for (j, w) in want.iter().enumerate() {
                let r = j as u64 * every + k;
                if r < n {
                    gap += size(rank_key(r)) - w;
                }
                worst = worst.max(gap.abs());
            }
            // Ranks k, k + every, ... are kept from this offset.
            let o = 1.0 - (k as f64 + 0.5) / every as f64;
            (worst / total, o)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(offset, |x| x.1)
}

/// An arrival process with `factor` times the arrivals.
pub fn scale_arrival(a: &Arrival, factor: f64) -> Arrival {
    let mut a = a.clone();
    match &mut a {
        Arrival::Constant { rate } | Arrival::Poisson { rate } | Arrival::Daily { rate, .. } => {
            *rate *= factor
        }
        Arrival::Bursts { count, .. } => *count = ((*count as f64 * factor).round() as u64).max(1),
    }
    a
}

/// Keys a workload's keyed patterns declare (cache keys, users, feeds, ...).
pub fn declared_keys(w: &Workload) -> u64 {
    w.patterns
        .iter()
        .map(|p| match p {
            PatternSpec::CacheAside(s) => s.keys,
            PatternSpec::Persistent(s) => s.keys,
            PatternSpec::RateLimit(s) => s.users,
            PatternSpec::Swr(s) => 2 * s.feeds,
            PatternSpec::Locks(s) => s.resources,
            PatternSpec::Sessions(_) | PatternSpec::Tokens(_) => 0,
        })
        .sum()
}

/// The miniature of `w` at `rate` (0 < rate ≤ 1), its systematic samples
/// starting at `offset` (0..1). The server settings are unchanged: scale
/// `maxmemory` with `plan::mini`.
pub fn miniature(w: &Workload, rate: f64, offset: f64) -> Workload {
    let mut m = w.clone();
    if rate >= 1.0 {
        return m;
    }
    let pop = |p: &mut Popularity, n: u64| *p = sample_popularity(p, n, rate, offset);
    // Keys whose value size is drawn per key: kept so that their mean size
    // is the population's (the size stream is the pattern's first draw).
    let sized = |p: &mut Popularity, n: u64, index: usize, sizes: &super::dist::SizeDist| {
        let sampler = sizes.sampler();
        let size_seed: u64 =
            rand::Rng::gen(&mut super::patterns::pattern_rng(w.seed, index as u64));
        let size = |k: u64| super::patterns::key_size(&sampler, size_seed, k) as f64;
        let o = size_matched_offset(p, n, rate, offset, size);
        *p = sample_popularity(p, n, rate, o);
    };
    for (index, p) in m.patterns.iter_mut().enumerate() {
        match p {
            PatternSpec::CacheAside(s) => {
                sized(&mut s.popularity, s.keys, index, &s.value_size);
                s.arrival = scale_arrival(&s.arrival, rate);
            }
            PatternSpec::Persistent(s) => {
                sized(&mut s.popularity, s.keys, index, &s.value_size);
                s.arrival = scale_arrival(&s.arrival, rate);
            }
            PatternSpec::RateLimit(s) => {
                pop(&mut s.popularity, s.users);
                s.arrival = scale_arrival(&s.arrival, rate);
            }
            PatternSpec::Swr(s) => {
                pop(&mut s.popularity, s.feeds);
                s.arrival = scale_arrival(&s.arrival, rate);
            }
            PatternSpec::Locks(s) => {
                pop(&mut s.popularity, s.resources);
                s.arrival = scale_arrival(&s.arrival, rate);
            }
            PatternSpec::Sessions(s) => s.logins = scale_arrival(&s.logins, rate),
            PatternSpec::Tokens(s) => s.campaigns = scale_arrival(&s.campaigns, rate),
        }
    }
    if let Warmup::Requests(n) = m.warmup {
        m.warmup = Warmup::Requests(((n as f64 * rate).round() as u64).max(1));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn sample_keeps_one_key_in_1_over_rate_and_the_head_share() {
        let z = Popularity::Zipf { s: 1.0 };
        let Popularity::Sampled(k) = sample_popularity(&z, 100_000, 1.0 / 64.0, 0.3) else {
            panic!("not sampled");
        };
        assert!((1562..=1563).contains(&k.keys.len()), "{}", k.keys.len());
        // Requests drawn from the sample put the same share on the top 10%
        // of ranks as the full Zipf does (within a point).
        let full = z.sampler(100_000);
        let mini = Popularity::Sampled(k).sampler(100_000);
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let share = |s: &crate::workload::dist::KeySampler, rng: &mut rand_pcg::Pcg64Mcg| {
            (0..200_000).filter(|_| s.sample(rng) < 10_000).count() as f64 / 200_000.0
        };
        let (f, m) = (share(&full, &mut rng), share(&mini, &mut rng));
        assert!((f - m).abs() < 0.01, "full {f} mini {m}");
    }
}
