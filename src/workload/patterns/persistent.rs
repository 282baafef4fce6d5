//! Persistent keys (user profiles, preferences): SET without a TTL, reads
//! that reload a missing key from the database, and occasional EXPIRE and
//! PERSIST. Outcome: reloads (misses that went to the database).

use anyhow::Result;
use rand_pcg::Pcg64Mcg;

use super::{ms, per_s, Aux, Drawing, KeyedRequests};
use crate::metrics::recorder::NsStats;
use crate::metrics::result::Row;
use crate::metrics::schema::{outcome, Outcomes, Unit};
use crate::sim::ctx::Read;
use crate::sim::keys::NsRef;
use crate::sim::{Client, Ctx};
use crate::workload::spec::PersistentSpec;

/// The outcome columns this pattern writes (`<ns>_<name>`).
pub const OUTCOMES: Outcomes = &[
    outcome(
        "reloads",
        Unit::Count,
        "Misses reloaded from the database (each followed by a cache fill SET).",
    ),
    outcome(
        "reloads_per_s",
        Unit::PerSecond,
        "Reloads per simulated second.",
    ),
];

/// The persistent-keys client.
pub struct Persistent {
    req: KeyedRequests,
    col: String,
    write: f64,
    expire: f64,
    persist: f64,
    expire_ms: u64,
    reloads: u64,
}

impl Persistent {
    /// From its spec.
    pub fn new(s: &PersistentSpec, ns: NsRef, col: String, rng: Pcg64Mcg, draws: Drawing) -> Self {
        let req = KeyedRequests::new(
            ns,
            rng,
            (
                s.arrival.generator(),
                s.popularity.sampler(s.keys),
                Some(s.value_size.sampler()),
            ),
            Aux::Unit,
            draws,
        );
        Persistent {
            req,
            col,
            write: s.write_fraction,
            expire: s.write_fraction + s.expire_fraction,
            persist: s.write_fraction + s.expire_fraction + s.persist_fraction,
            expire_ms: s.expire_ttl.map_or(0, ms),
            reloads: 0,
        }
    }
}

impl Client for Persistent {
    fn start(&mut self, ctx: &mut Ctx) -> Result<()> {
        self.req.start(ctx);
        Ok(())
    }

    fn event(&mut self, _token: u64, ctx: &mut Ctx) -> Result<()> {
        let r = self.req.next(ctx)?;
        let (k, size, u) = (r.key, r.size, r.unit());
        if u < self.write {
            ctx.set(k, size, 0);
        } else if u < self.expire {
            ctx.expire(k, self.expire_ms);
        } else if u < self.persist {
            ctx.persist(k);
        } else if let Read::Miss(_) = ctx.get_for_fill(k, size, 0) {
            if ctx.measuring() {
                self.reloads += 1;
            }
            ctx.fill(k, size, 0);
        }
        Ok(())
    }

    fn outcomes(&self, _ns: &[NsStats], measured_s: f64, out: &mut Row) {
        let c = &self.col;
        out.put(format!("{c}_reloads"), self.reloads);
        out.float(
            format!("{c}_reloads_per_s"),
            per_s(self.reloads, measured_s),
        );
    }
}
