//! Rate-limit counters (fixed window): `INCR rl:<user>`; on the first
//! request of a window (`INCR` answered 1) `EXPIRE rl:<user> <window>`;
//! allowed while the count is at most `limit`.
//!
//! The client also keeps the true count of each user's window, as a limiter
//! that never lost its counter would have it (with Redis's own expiry rule:
//! a window ends when the clock passes its expire time). Outcome:
//! `wrongly_allowed` — requests Redis allowed but the true count denies,
//! because the counter was evicted and the limiter reset early (and
//! `wrongly_denied`, windows out of phase after such a reset).

use anyhow::Result;
use rand_pcg::Pcg64Mcg;

use super::{ms, Aux, Drawing, KeyedRequests};
use crate::metrics::recorder::NsStats;
use crate::metrics::result::Row;
use crate::metrics::schema::{outcome, Outcomes, Unit};
use crate::sim::keys::NsRef;
use crate::sim::{Client, Ctx};
use crate::workload::spec::RateLimitSpec;

/// The outcome columns this pattern writes (`<ns>_<name>`).
pub const OUTCOMES: Outcomes = &[
    outcome("allowed", Unit::Count, "Limiter checks (one INCR each, plus EXPIRE when a window starts) that allowed the action."),
    outcome("denied", Unit::Count, "Limiter checks that denied the action."),
    outcome("wrongly_allowed", Unit::Count, "Checks allowed that a limiter with an intact counter would have denied (the counter was evicted; harm)."),
    outcome("wrongly_denied", Unit::Count, "Checks denied that an intact limiter would have allowed (windows out of phase after a reset; harm)."),
    outcome("refused", Unit::Count, "INCRs refused with OOM."),
    outcome("wrong_ratio", Unit::Ratio, "Share of limiter checks decided wrongly (wrongly allowed or denied): the limiter's hit ratio, read the other way round; empty with no checks."),
];

/// The rate-limit client.
pub struct RateLimit {
    col: String,
    req: KeyedRequests,
    limit: u64,
    window_ms: u64,
    /// True window per user: (expire time in Unix ms, count); count 0 = none.
    truth: Vec<(i64, u64)>,
    allowed: u64,
    denied: u64,
    wrongly_allowed: u64,
    wrongly_denied: u64,
    refused: u64,
}

impl RateLimit {
    /// From its spec.
    /// `draws` says how it draws its requests ([`crate::workload::ahead`]).
    pub fn new(s: &RateLimitSpec, ns: NsRef, col: String, rng: Pcg64Mcg, draws: Drawing) -> Self {
        let req = KeyedRequests::new(
            ns,
            rng,
            (s.arrival.generator(), s.popularity.sampler(s.users), None),
            Aux::None,
            draws,
        );
        RateLimit {
            req,
            col,
            limit: s.limit,
            window_ms: ms(s.window),
            truth: vec![(0, 0); s.users.min(1 << 28) as usize],
            allowed: 0,
            denied: 0,
            wrongly_allowed: 0,
            wrongly_denied: 0,
            refused: 0,
        }
    }
}

impl Client for RateLimit {
    fn start(&mut self, ctx: &mut Ctx) -> Result<()> {
        self.req.start(ctx);
        Ok(())
    }

    fn event(&mut self, _token: u64, ctx: &mut Ctx) -> Result<()> {
        let r = self.req.next(ctx)?;
        let (k, u) = (r.key, r.n);
        let now = ctx.now_ms();
        let len = self.truth.len();
        let t = &mut self.truth[u as usize % len];
        if t.1 == 0 || now > t.0 {
            *t = (now + self.window_ms as i64, 0);
        }
        t.1 += 1;
        let truly_allowed = t.1 <= self.limit;
        let count = ctx.incr(k);
        if count == Some(1) {
            ctx.expire(k, self.window_ms);
        }
        // A refused INCR (OOM) fails open, as most limiters do.
        let allowed = count.is_none_or(|c| c <= self.limit as i64);
        if ctx.measuring() {
            if count.is_none() {
                self.refused += 1;
            }
            if allowed {
                self.allowed += 1;
            } else {
                self.denied += 1;
            }
            if allowed && !truly_allowed {
                self.wrongly_allowed += 1;
            }
            if !allowed && truly_allowed {
                self.wrongly_denied += 1;
            }
        }
        Ok(())
    }

    fn outcomes(&self, _ns: &[NsStats], _measured_s: f64, out: &mut Row) {
        let c = &self.col;
        out.put(format!("{c}_allowed"), self.allowed);
        out.put(format!("{c}_denied"), self.denied);
        out.put(format!("{c}_wrongly_allowed"), self.wrongly_allowed);
        out.put(format!("{c}_wrongly_denied"), self.wrongly_denied);
        out.put(format!("{c}_refused"), self.refused);
        out.ratio(
            format!("{c}_wrong_ratio"),
            self.wrongly_allowed + self.wrongly_denied,
            self.allowed + self.denied,
        );
    }
}
