//! Sessions with sliding expiry.
//!
//! Logins arrive; each is `SETEX session:<token> <ttl>`. The user then makes
//! a geometric number of requests, each after a think time: GET + EXPIRE
//! (or GETEX EX) to read the session and slide its TTL. After the last
//! request the user logs out (DEL) or abandons the session, which then
//! expires after `ttl` of idleness. A request that finds no session makes
//! the user log in again (a new token).
//!
//! Outcomes: `logged_out_early` — requests of active users whose session had
//! been *evicted*; `expired_idle` — sessions removed by expiry (idle users);
//! `relogin_after_expiry` — users who came back after their session expired.

use anyhow::Result;
use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::{ms, next_arrival, per_s, ARRIVAL};
use crate::metrics::recorder::{MissCause, NsStats};
use crate::metrics::result::Row;
use crate::metrics::schema::{outcome, Outcomes, Unit};
use crate::sim::ctx::Read;
use crate::sim::keys::NsRef;
use crate::sim::{Client, Ctx};
use crate::workload::dist::{ArrivalGen, DelaySampler, SizeSampler};
use crate::workload::spec::{Refresh, SessionsSpec};

/// The outcome columns this pattern writes (`<ns>_<name>`).
pub const OUTCOMES: Outcomes = &[
    outcome(
        "logged_out_early",
        Unit::Count,
        "Requests of active users whose session had been evicted (harm).",
    ),
    outcome(
        "expired_idle",
        Unit::Count,
        "Sessions removed by expiry after their user went idle.",
    ),
    outcome(
        "relogin_after_expiry",
        Unit::Count,
        "Users who came back after their session expired and logged in again.",
    ),
    outcome(
        "logins_refused",
        Unit::Count,
        "Logins refused with OOM (harm).",
    ),
    outcome("logouts", Unit::Count, "Sessions ended by the user (DEL)."),
    outcome(
        "requests_ok",
        Unit::Count,
        "Requests that found their session.",
    ),
    outcome(
        "logins_per_s",
        Unit::PerSecond,
        "Sessions created per simulated second.",
    ),
];

/// Marks a logout event (the rest of the token is the session number).
const LOGOUT: u64 = 1 << 62;

/// The sessions client.
pub struct Sessions {
    ns: NsRef,
    col: String,
    rng: Pcg64Mcg,
    logins: ArrivalGen,
    think: DelaySampler,
    sizes: SizeSampler,
    ttl_ms: u64,
    /// P(another request) for the geometric request count.
    more: f64,
    logout: f64,
    refresh: Refresh,
    /// Next session number.
    next: u64,
    /// Requests left per session number.
    left: Vec<u32>,
    /// Value size per session number.
    size: Vec<u32>,
    logged_out_early: u64,
    relogin_after_expiry: u64,
    logins_refused: u64,
    logouts: u64,
    requests_ok: u64,
}

impl Sessions {
    /// From its spec.
    pub fn new(s: &SessionsSpec, ns: NsRef, col: String, rng: Pcg64Mcg) -> Self {
        Sessions {
            ns,
            col,
            rng,
            logins: s.logins.generator(),
            think: s.think_time.sampler(),
            sizes: s.value_size.sampler(),
            ttl_ms: ms(s.ttl),
            more: s.requests / (s.requests + 1.0),
            logout: s.logout,
            refresh: s.refresh,
            next: 0,
            left: Vec::new(),
            size: Vec::new(),
            logged_out_early: 0,
            relogin_after_expiry: 0,
            logins_refused: 0,
            logouts: 0,
            requests_ok: 0,
        }
    }

    /// Creates session number `next` with `left` requests to go; schedules
    /// the user's next step.
    fn login(&mut self, ctx: &mut Ctx, left: u32) {
        let s = self.next;
        self.next += 1;
        let size = self.sizes.sample(&mut self.rng);
        self.left.push(left);
        self.size.push(size);
        if !ctx.set(self.ns.key(s), size, self.ttl_ms) {
            if ctx.measuring() {
                self.logins_refused += 1;
            }
            return;
        }
        self.next_step(ctx, s);
    }

    /// After a login or a request: another request after a think time, or
    /// the end of the session.
    fn next_step(&mut self, ctx: &mut Ctx, s: u64) {
        let think = self.think.sample(&mut self.rng);
        if self.left[s as usize] > 0 {
            ctx.schedule_in(think, s);
        } else if self.rng.gen::<f64>() < self.logout {
            ctx.schedule_in(think, LOGOUT | s);
        }
    }

    fn requests(&mut self) -> u32 {
        if self.more <= 0.0 {
            return 0;
        }
        let u: f64 = 1.0 - self.rng.gen::<f64>();
        (u.ln() / self.more.ln()).floor().min(1e6) as u32
    }
}

impl Client for Sessions {
    fn start(&mut self, ctx: &mut Ctx) -> Result<()> {
        next_arrival(&mut self.logins, &mut self.rng, ctx);
        Ok(())
    }

    fn event(&mut self, token: u64, ctx: &mut Ctx) -> Result<()> {
        if token == ARRIVAL {
            next_arrival(&mut self.logins, &mut self.rng, ctx);
            let left = self.requests();
            self.login(ctx, left);
            return Ok(());
        }
        if token & LOGOUT != 0 {
            let s = token & !LOGOUT;
            ctx.del(self.ns.key(s));
            if ctx.measuring() {
                self.logouts += 1;
            }
            return Ok(());
        }
        let s = token;
        let k = self.ns.key(s);
        let read = match self.refresh {
            Refresh::Expire => {
                let r = ctx.get(k);
                if r.is_hit() {
                    ctx.expire(k, self.ttl_ms);
                }
                r
            }
            Refresh::Getex => ctx.getex(k, self.ttl_ms),
        };
        let left = self.left[s as usize] - 1;
        self.left[s as usize] = left;
        match read {
            Read::Hit(_) => {
                if ctx.measuring() {
                    self.requests_ok += 1;
                }
                self.next_step(ctx, s);
            }
            Read::Miss(cause) => {
                if ctx.measuring() {
                    match cause {
                        MissCause::Evicted => self.logged_out_early += 1,
                        MissCause::Expired => self.relogin_after_expiry += 1,
                        MissCause::Cold => {}
                    }
                }
                self.login(ctx, left);
            }
        }
        Ok(())
    }

    fn outcomes(&self, ns: &[NsStats], measured_s: f64, out: &mut Row) {
        let c = &self.col;
        let me = &ns[self.ns.ns as usize].total;
        out.put(format!("{c}_logged_out_early"), self.logged_out_early);
        out.put(format!("{c}_expired_idle"), me.expired);
        out.put(
            format!("{c}_relogin_after_expiry"),
            self.relogin_after_expiry,
        );
        out.put(format!("{c}_logins_refused"), self.logins_refused);
        out.put(format!("{c}_logouts"), self.logouts);
        out.put(format!("{c}_requests_ok"), self.requests_ok);
        out.float(format!("{c}_logins_per_s"), per_s(me.created, measured_s));
    }
}
