//! Client patterns: small state machines (engine [`Client`]s) that send
//! commands through a [`Ctx`], read the replies, schedule their next step, and count their own
//! outcomes (sessions logged out early, tokens lost, requests wrongly
//! allowed, ...). One file per pattern; [`build`] makes one from its spec.
//!
//! Every pattern draws from its own seeded generator, derived from the run
//! seed and the pattern's position in the file, so adding a pattern does not
//! change the others' random streams.

pub mod cache_aside;
pub mod locks;
pub mod persistent;
pub mod rate_limit;
pub mod sessions;
pub mod swr;
pub mod tokens;

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

use super::dist::{ArrivalGen, KeySampler, SizeSampler};
use super::spec::PatternSpec;
use crate::sim::keys::{Namespaces, NsRef, SimKey};
use crate::sim::{Client, Ctx};

/// Each pattern kind (as `kind = "..."` names it) and its outcome columns,
/// for `docs/columns.md` and the check that every column is described.
pub const OUTCOMES: &[(&str, crate::metrics::schema::Outcomes)] = &[
    ("cache-aside", cache_aside::OUTCOMES),
    ("sessions", sessions::OUTCOMES),
    ("tokens", tokens::OUTCOMES),
    ("rate-limit", rate_limit::OUTCOMES),
    ("swr", swr::OUTCOMES),
    ("locks", locks::OUTCOMES),
    ("persistent", persistent::OUTCOMES),
];

/// The token of a pattern's arrival event.
pub(crate) const ARRIVAL: u64 = u64::MAX;

/// A pattern's generator: `seed` mixed with its index (SplitMix64).
pub fn pattern_rng(seed: u64, index: u64) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(mix(seed ^ mix(index.wrapping_add(0x5EED))))
}

/// SplitMix64's finaliser: a good 64-bit mix.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The size of key `n`'s value: drawn once per key from the key's own
/// stream, so a key keeps its size across fills.
#[inline]
pub(crate) fn key_size(sizes: &SizeSampler, seed: u64, n: u64) -> u32 {
    if let SizeSampler::Fixed(b) = sizes {
        return *b;
    }
    let mut r = Pcg64Mcg::new(((mix(seed ^ n) as u128) << 64) | mix(n ^ 0xA5A5) as u128 | 1);
    sizes.sample(&mut r)
}

/// Schedules the next arrival of `gen` with the [`ARRIVAL`] token. An
/// arrival later than the longest possible run (a rate of 1e-20 per second)
/// is dropped: the process has no more arrivals, and the run ends.
#[inline]
pub(crate) fn next_arrival(gen: &mut ArrivalGen, rng: &mut Pcg64Mcg, ctx: &mut Ctx) {
    if let Some(t) = gen.next(rng) {
        if t <= crate::workload::spec::schema::MAX_DUR_US as f64 {
            ctx.schedule_rel(t, ARRIVAL);
        }
    }
}

/// A stream of keyed requests: when the next one arrives, which key it asks
/// for and that key's value size. Cache-aside and persistent keys draw their
/// requests the same way and differ only in what they send.
pub(crate) struct KeyedRequests {
    /// The namespace the keys belong to.
    pub ns: NsRef,
    /// The pattern's random stream (also for its own decisions).
    pub rng: Pcg64Mcg,
    arrivals: ArrivalGen,
    keys: KeySampler,
    sizes: SizeSampler,
    size_seed: u64,
}

impl KeyedRequests {
    /// A stream over `keys` keys; the per-key size seed is drawn first.
    pub fn new(
        ns: NsRef,
        mut rng: Pcg64Mcg,
        arrivals: ArrivalGen,
        keys: KeySampler,
        sizes: SizeSampler,
    ) -> Self {
        let size_seed = rand::Rng::gen(&mut rng);
        KeyedRequests {
            ns,
            rng,
            arrivals,
            keys,
            sizes,
            size_seed,
        }
    }

    /// Schedules the first arrival.
    pub fn start(&mut self, ctx: &mut Ctx) {
        next_arrival(&mut self.arrivals, &mut self.rng, ctx);
    }

    /// Schedules the next arrival, then draws this request's key and the
    /// size of its value (fixed per key).
    pub fn next(&mut self, ctx: &mut Ctx) -> (SimKey, u32) {
        next_arrival(&mut self.arrivals, &mut self.rng, ctx);
        let n = self.keys.sample(&mut self.rng);
        (self.ns.key(n), key_size(&self.sizes, self.size_seed, n))
    }
}

/// Whole milliseconds of a duration (at least 1).
#[inline]
pub(crate) fn ms(d: crate::units::Dur) -> u64 {
    d.ms().max(1)
}

/// Per-second rate of a count over the measured time.
pub(crate) fn per_s(count: u64, measured_s: f64) -> f64 {
    if measured_s > 0.0 {
        count as f64 / measured_s
    } else {
        0.0
    }
}

/// Builds the client for pattern `index` of a workload, registering its
/// namespaces.
pub fn build(
    spec: &PatternSpec,
    index: usize,
    seed: u64,
    names: &mut Namespaces,
) -> Box<dyn Client> {
    let rng = pattern_rng(seed, index as u64);
    let ns = names.register(spec.namespace());
    let h = names.handle(ns, spec.key_bytes());
    let col = super::spec::sanitize(spec.namespace());
    match spec {
        PatternSpec::CacheAside(s) => Box::new(cache_aside::CacheAside::new(s, h, col, rng)),
        PatternSpec::Sessions(s) => Box::new(sessions::Sessions::new(s, h, col, rng)),
        PatternSpec::Tokens(s) => Box::new(tokens::Tokens::new(s, h, col, rng)),
        PatternSpec::RateLimit(s) => Box::new(rate_limit::RateLimit::new(s, h, col, rng)),
        PatternSpec::Swr(s) => {
            let ts_name = format!("{}:ts", s.namespace);
            let ts = names.register(&ts_name);
            let ts = names.handle(ts, spec.key_bytes() + 3);
            Box::new(swr::Swr::new(s, h, ts, col, rng))
        }
        PatternSpec::Locks(s) => Box::new(locks::Locks::new(s, h, col, rng)),
        PatternSpec::Persistent(s) => Box::new(persistent::Persistent::new(s, h, col, rng)),
    }
}
