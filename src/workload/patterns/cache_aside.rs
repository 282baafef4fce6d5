//! Cache-aside: GET; on a miss, fetch from the origin and SET with a TTL
//! (plus optional jitter). Outcome: origin fetches (per second).

use anyhow::Result;
use rand_pcg::Pcg64Mcg;

use super::{ms, per_s, Aux, Drawing, KeyedRequests};
use crate::metrics::recorder::NsStats;
use crate::metrics::result::Row;
use crate::metrics::schema::{outcome, Outcomes, Unit};
use crate::sim::ctx::Read;
use crate::sim::keys::NsRef;
use crate::sim::{Client, Ctx};
use crate::workload::spec::CacheAsideSpec;

/// The outcome columns this pattern writes (`<ns>_<name>`).
pub const OUTCOMES: Outcomes = &[
    outcome(
        "origin_fetches",
        Unit::Count,
        "Misses that went to the origin (each followed by a cache fill SET: a command, not a request).",
    ),
    outcome(
        "origin_fetches_per_s",
        Unit::PerSecond,
        "Origin fetches per simulated second.",
    ),
];

/// The cache-aside client.
pub struct CacheAside {
    req: KeyedRequests,
    col: String,
    ttl_ms: u64,
    fetches: u64,
}

impl CacheAside {
    /// From its spec; `draws` says how it draws its requests ([`crate::workload::ahead`]).
    pub fn new(s: &CacheAsideSpec, ns: NsRef, col: String, rng: Pcg64Mcg, draws: Drawing) -> Self {
        let jitter_ms = s.ttl_jitter.map_or(0, |d| d.ms());
        let req = KeyedRequests::new(
            ns,
            rng,
            (
                s.arrival.generator(),
                s.popularity.sampler(s.keys),
                Some(s.value_size.sampler()),
            ),
            Aux::UpTo(jitter_ms),
            draws,
        );
        CacheAside {
            req,
            col,
            ttl_ms: s.ttl.map_or(0, ms),
            fetches: 0,
        }
    }
}

impl Client for CacheAside {
    fn start(&mut self, ctx: &mut Ctx) -> Result<()> {
        self.req.start(ctx);
        Ok(())
    }

    fn event(&mut self, _token: u64, ctx: &mut Ctx) -> Result<()> {
        let r = self.req.next(ctx)?;
        let (k, size) = (r.key, r.size);
        let ttl = self.ttl_ms + r.aux;
        if let Read::Miss(_) = ctx.get_for_fill(k, size, ttl) {
            if ctx.measuring() {
                self.fetches += 1;
            }
            ctx.fill(k, size, ttl);
        }
        Ok(())
    }

    fn outcomes(&self, _ns: &[NsStats], measured_s: f64, out: &mut Row) {
        let c = &self.col;
        out.put(format!("{c}_origin_fetches"), self.fetches);
        out.float(
            format!("{c}_origin_fetches_per_s"),
            per_s(self.fetches, measured_s),
        );
    }
}
