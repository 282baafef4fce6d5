//! Stale-while-revalidate, as `get_cached_feed` in the TTL article: a value
//! key and a timestamp key per feed, both written with `SETEX max_stale`.
//! A read GETs both: younger than `revalidate` is fresh; younger than
//! `max_stale` is served stale (and, by default, refetched in the
//! background); otherwise, or when either key is missing, the feed is
//! fetched from the origin and both keys are written.
//!
//! Outcomes: fresh, stale and missing reads; origin fetches.

use anyhow::Result;
use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::{key_size, ms, next_arrival, per_s};
use crate::metrics::recorder::NsStats;
use crate::metrics::result::Row;
use crate::metrics::schema::{outcome, Outcomes, Unit};
use crate::sim::ctx::Read;
use crate::sim::keys::NsRef;
use crate::sim::{Client, Ctx};
use crate::store::SimValue;
use crate::workload::dist::{ArrivalGen, KeySampler, SizeSampler};
use crate::workload::spec::SwrSpec;

/// The outcome columns this pattern writes (`<ns>_<name>`).
pub const OUTCOMES: Outcomes = &[
    outcome(
        "fresh",
        Unit::Count,
        "Reads served fresh (younger than `revalidate`).",
    ),
    outcome(
        "stale",
        Unit::Count,
        "Reads served stale (younger than `max_stale`), refetched in the background.",
    ),
    outcome(
        "missing",
        Unit::Count,
        "Reads that found the value or its timestamp missing and fetched from the origin.",
    ),
    outcome("origin_fetches", Unit::Count, "Fetches from the origin."),
    outcome(
        "origin_fetches_per_s",
        Unit::PerSecond,
        "Origin fetches per simulated second.",
    ),
];

/// The stale-while-revalidate client.
pub struct Swr {
    ns: NsRef,
    ts: NsRef,
    col: String,
    rng: Pcg64Mcg,
    arrivals: ArrivalGen,
    feeds: KeySampler,
    sizes: SizeSampler,
    size_seed: u64,
    revalidate_s: i64,
    max_stale_s: i64,
    max_stale_ms: u64,
    background: bool,
    fresh: u64,
    stale: u64,
    missing: u64,
    fetches: u64,
}

impl Swr {
    /// From its spec; `ts` is the namespace of the timestamp keys.
    pub fn new(s: &SwrSpec, ns: NsRef, ts: NsRef, col: String, mut rng: Pcg64Mcg) -> Self {
        Swr {
            ns,
            ts,
            col,
            size_seed: rng.gen(),
            rng,
            arrivals: s.arrival.generator(),
            feeds: s.popularity.sampler(s.feeds),
            sizes: s.value_size.sampler(),
            revalidate_s: s.revalidate.secs() as i64,
            max_stale_s: s.max_stale.secs() as i64,
            max_stale_ms: ms(s.max_stale),
            background: s.background_refresh,
            fresh: 0,
            stale: 0,
            missing: 0,
            fetches: 0,
        }
    }

    fn fetch(&mut self, ctx: &mut Ctx, f: u64) {
        let size = key_size(&self.sizes, self.size_seed, f);
        let now_s = ctx.now_ms() / 1000;
        ctx.set(self.ns.key(f), size, self.max_stale_ms);
        ctx.set_value(self.ts.key(f), SimValue::Int(now_s), self.max_stale_ms);
        if ctx.measuring() {
            self.fetches += 1;
        }
    }
}

impl Client for Swr {
    fn start(&mut self, ctx: &mut Ctx) -> Result<()> {
        next_arrival(&mut self.arrivals, &mut self.rng, ctx);
        Ok(())
    }

    fn event(&mut self, _token: u64, ctx: &mut Ctx) -> Result<()> {
        next_arrival(&mut self.arrivals, &mut self.rng, ctx);
        let f = self.feeds.sample(&mut self.rng);
        let cached = ctx.get(self.ns.key(f));
        let stamp = ctx.get(self.ts.key(f));
        let now_s = ctx.now_ms() / 1000;
        let age = match (cached, stamp) {
            (Read::Hit(_), Read::Hit(SimValue::Int(t))) => Some(now_s - t),
            _ => None,
        };
        let measuring = ctx.measuring();
        match age {
            Some(a) if a < self.revalidate_s => {
                if measuring {
                    self.fresh += 1;
                }
            }
            Some(a) if a < self.max_stale_s => {
                if measuring {
                    self.stale += 1;
                }
                if self.background {
                    self.fetch(ctx, f);
                }
            }
            _ => {
                if measuring {
                    self.missing += 1;
                }
                self.fetch(ctx, f);
            }
        }
        Ok(())
    }

    fn outcomes(&self, _ns: &[NsStats], measured_s: f64, out: &mut Row) {
        let c = &self.col;
        out.put(format!("{c}_fresh"), self.fresh);
        out.put(format!("{c}_stale"), self.stale);
        out.put(format!("{c}_missing"), self.missing);
        out.put(format!("{c}_origin_fetches"), self.fetches);
        out.float(
            format!("{c}_origin_fetches_per_s"),
            per_s(self.fetches, measured_s),
        );
    }
}
