//! Locks: `SET lock:<resource> <owner> NX PX <ttl>`, released with DEL
//! after the hold time (the usual check-and-delete: a holder that knows it
//! no longer owns the lock sends nothing).
//!
//! Outcomes: acquisitions, contention, and locks lost while held — by
//! eviction (Redis dropped a live lock: two holders at once) or by expiry
//! (held longer than its TTL).

use anyhow::Result;
use rand_pcg::Pcg64Mcg;

use super::{ms, next_arrival, ARRIVAL};
use crate::metrics::recorder::NsStats;
use crate::metrics::result::Row;
use crate::metrics::schema::{outcome, Outcomes, Unit};
use crate::sim::keys::{Fate, NsRef};
use crate::sim::{Client, Ctx};
use crate::workload::dist::{ArrivalGen, DelaySampler, KeySampler};
use crate::workload::spec::LocksSpec;

/// The outcome columns this pattern writes (`<ns>_<name>`).
pub const OUTCOMES: Outcomes = &[
    outcome("acquired", Unit::Count, "SET NX that took the lock."),
    outcome(
        "contended",
        Unit::Count,
        "SET NX refused because another holder had the lock.",
    ),
    outcome("refused", Unit::Count, "Acquisitions refused with OOM."),
    outcome(
        "released",
        Unit::Count,
        "Locks released by their holder (DEL).",
    ),
    outcome(
        "lost_by_eviction",
        Unit::Count,
        "Locks evicted while held: a second holder could take them (harm).",
    ),
    outcome(
        "lost_to_expiry",
        Unit::Count,
        "Locks that expired while held (held longer than their TTL).",
    ),
    outcome(
        "lost_ratio",
        Unit::Ratio,
        "Share of acquired locks lost to eviction while held; empty with no acquisitions.",
    ),
];

/// The locks client.
pub struct Locks {
    ns: NsRef,
    col: String,
    rng: Pcg64Mcg,
    arrivals: ArrivalGen,
    resources: KeySampler,
    hold: DelaySampler,
    ttl_ms: u64,
    owner_bytes: u32,
    /// Per resource: the acquisition number of the holder (0: none).
    holder: Vec<u32>,
    acquisitions: u32,
    acquired: u64,
    contended: u64,
    refused: u64,
    released: u64,
    lost_by_eviction: u64,
    lost_to_expiry: u64,
}

impl Locks {
    /// From its spec.
    pub fn new(s: &LocksSpec, ns: NsRef, col: String, rng: Pcg64Mcg) -> Self {
        Locks {
            ns,
            col,
            rng,
            arrivals: s.arrival.generator(),
            resources: s.popularity.sampler(s.resources),
            hold: s.hold.sampler(),
            ttl_ms: ms(s.ttl),
            owner_bytes: s.owner_bytes,
            holder: vec![0; s.resources.min(1 << 28) as usize],
            acquisitions: 0,
            acquired: 0,
            contended: 0,
            refused: 0,
            released: 0,
            lost_by_eviction: 0,
            lost_to_expiry: 0,
        }
    }

    fn lost(&mut self, fate: Fate, measuring: bool) {
        if measuring {
            match fate {
                Fate::Evicted => self.lost_by_eviction += 1,
                _ => self.lost_to_expiry += 1,
            }
        }
    }
}

impl Client for Locks {
    fn start(&mut self, ctx: &mut Ctx) -> Result<()> {
        next_arrival(&mut self.arrivals, &mut self.rng, ctx);
        Ok(())
    }

    fn event(&mut self, token: u64, ctx: &mut Ctx) -> Result<()> {
        let measuring = ctx.measuring();
        if token == ARRIVAL {
            next_arrival(&mut self.arrivals, &mut self.rng, ctx);
            let r = self.resources.sample(&mut self.rng);
            let slot = r as usize % self.holder.len();
            let (ok, before) = ctx.set_nx(self.ns.key(r), self.owner_bytes, self.ttl_ms);
            if !ok {
                if measuring {
                    if before == Fate::Live {
                        self.contended += 1;
                    } else {
                        self.refused += 1;
                    }
                }
                return Ok(());
            }
            if self.holder[slot] != 0 {
                // Someone still believed they held it: their lock was lost.
                self.lost(before, measuring);
            }
            self.acquisitions = self.acquisitions.wrapping_add(1).max(1);
            self.holder[slot] = self.acquisitions;
            if measuring {
                self.acquired += 1;
            }
            let hold = self.hold.sample(&mut self.rng);
            ctx.schedule_in(hold, (r << 32) | self.acquisitions as u64);
            return Ok(());
        }
        let r = token >> 32;
        let slot = r as usize % self.holder.len();
        if self.holder[slot] != token as u32 {
            return Ok(()); // Already lost and taken over: nothing to release.
        }
        self.holder[slot] = 0;
        let k = self.ns.key(r);
        if ctx.del(k) {
            if measuring {
                self.released += 1;
            }
        } else {
            let fate = ctx.fate(k);
            self.lost(fate, measuring);
        }
        Ok(())
    }

    fn outcomes(&self, _ns: &[NsStats], _measured_s: f64, out: &mut Row) {
        let c = &self.col;
        out.put(format!("{c}_acquired"), self.acquired);
        out.put(format!("{c}_contended"), self.contended);
        out.put(format!("{c}_refused"), self.refused);
        out.put(format!("{c}_released"), self.released);
        out.put(format!("{c}_lost_by_eviction"), self.lost_by_eviction);
        out.put(format!("{c}_lost_to_expiry"), self.lost_to_expiry);
        out.ratio(
            format!("{c}_lost_ratio"),
            self.lost_by_eviction,
            self.acquired,
        );
    }
}
