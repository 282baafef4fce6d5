//! Verification tokens in bursts: a campaign creates many
//! `SETEX verify:<token> <ttl>` at once; a fraction of users redeem after a
//! delay (GET, then DEL). Outcomes: redemptions that worked, and those lost
//! to expiry (the user was too slow) versus to eviction (Redis dropped the
//! token early).

use anyhow::Result;
use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::{ms, next_arrival, ARRIVAL};
use crate::metrics::recorder::{MissCause, NsStats};
use crate::metrics::result::Row;
use crate::metrics::schema::{outcome, Outcomes, Unit};
use crate::sim::ctx::Read;
use crate::sim::keys::NsRef;
use crate::sim::{Client, Ctx};
use crate::workload::dist::{ArrivalGen, DelaySampler, SizeSampler};
use crate::workload::spec::TokensSpec;

/// The outcome columns this pattern writes (`<ns>_<name>`).
pub const OUTCOMES: Outcomes = &[
    outcome("issued", Unit::Count, "Tokens written (SETEX)."),
    outcome(
        "refused",
        Unit::Count,
        "Token writes refused with OOM (harm).",
    ),
    outcome(
        "redeemed",
        Unit::Count,
        "Redemptions that found their token.",
    ),
    outcome(
        "lost_to_expiry",
        Unit::Count,
        "Redemptions that came after the token expired (the user was too slow).",
    ),
    outcome(
        "lost_to_eviction",
        Unit::Count,
        "Redemptions whose token had been evicted (harm).",
    ),
    outcome(
        "lost_not_stored",
        Unit::Count,
        "Redemptions of tokens whose write had been refused (harm).",
    ),
];

/// The tokens client.
pub struct Tokens {
    ns: NsRef,
    col: String,
    rng: Pcg64Mcg,
    created: ArrivalGen,
    delay: DelaySampler,
    sizes: SizeSampler,
    ttl_ms: u64,
    redeem: f64,
    next: u64,
    issued: u64,
    refused: u64,
    redeemed: u64,
    lost_to_expiry: u64,
    lost_to_eviction: u64,
    lost_refused: u64,
}

impl Tokens {
    /// From its spec.
    pub fn new(s: &TokensSpec, ns: NsRef, col: String, rng: Pcg64Mcg) -> Self {
        Tokens {
            ns,
            col,
            rng,
            created: s.campaigns.generator(),
            delay: s.redeem_delay.sampler(),
            sizes: s.value_size.sampler(),
            ttl_ms: ms(s.ttl),
            redeem: s.redeem_fraction,
            next: 0,
            issued: 0,
            refused: 0,
            redeemed: 0,
            lost_to_expiry: 0,
            lost_to_eviction: 0,
            lost_refused: 0,
        }
    }
}

impl Client for Tokens {
    fn start(&mut self, ctx: &mut Ctx) -> Result<()> {
        next_arrival(&mut self.created, &mut self.rng, ctx);
        Ok(())
    }

    fn event(&mut self, token: u64, ctx: &mut Ctx) -> Result<()> {
        if token == ARRIVAL {
            next_arrival(&mut self.created, &mut self.rng, ctx);
            let t = self.next;
            self.next += 1;
            let size = self.sizes.sample(&mut self.rng);
            let ok = ctx.set(self.ns.key(t), size, self.ttl_ms);
            if ctx.measuring() {
                if ok {
                    self.issued += 1;
                } else {
                    self.refused += 1;
                }
            }
            if self.rng.gen::<f64>() < self.redeem {
                let d = self.delay.sample(&mut self.rng);
                ctx.schedule_in(d, t);
            }
            return Ok(());
        }
        let k = self.ns.key(token);
        match ctx.get(k) {
            Read::Hit(_) => {
                ctx.del(k);
                if ctx.measuring() {
                    self.redeemed += 1;
                }
            }
            Read::Miss(cause) => {
                if ctx.measuring() {
                    match cause {
                        MissCause::Expired => self.lost_to_expiry += 1,
                        MissCause::Evicted => self.lost_to_eviction += 1,
                        MissCause::Cold => self.lost_refused += 1,
                    }
                }
            }
        }
        Ok(())
    }

    fn outcomes(&self, _ns: &[NsStats], _measured_s: f64, out: &mut Row) {
        let c = &self.col;
        out.put(format!("{c}_issued"), self.issued);
        out.put(format!("{c}_refused"), self.refused);
        out.put(format!("{c}_redeemed"), self.redeemed);
        out.put(format!("{c}_lost_to_expiry"), self.lost_to_expiry);
        out.put(format!("{c}_lost_to_eviction"), self.lost_to_eviction);
        out.put(format!("{c}_lost_not_stored"), self.lost_refused);
    }
}
