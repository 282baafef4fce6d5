//! Sessions with sliding, fixed or capped expiry.
//!
//! Logins arrive; each is `SETEX session:<token> <ttl>`. The user then makes
//! a geometric number of requests, each after a think time. With sliding
//! expiry a request is GET + EXPIRE (or GETEX EX) to read the session and
//! slide its TTL; with fixed expiry it is a GET and the TTL runs from login;
//! capped sliding slides but never past `max_lifetime` after login. After the last
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
use crate::workload::spec::{Expiry, Refresh, SessionsSpec};

/// The outcome columns this pattern writes (`<ns>_<name>`).
pub const OUTCOMES: Outcomes = &[
    outcome(
        "logged_out_early",
        Unit::Count,
        "Page views of active users (each one session read: GET, GETEX, or GET then EXPIRE) that found their session evicted (harm).",
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
        "Page views whose session read found the session (page views, not Redis requests).",
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
    expiry: Expiry,
    /// With capped expiry: the longest lifetime, in ms.
    max_lifetime_ms: u64,
    /// Next session number.
    next: u64,
    /// Requests left per session number.
    left: Vec<u32>,
    /// Value size per session number.
    size: Vec<u32>,
    /// Login time (Unix ms) per session number, for capped expiry.
    born: Vec<i64>,
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
            expiry: s.expiry,
            max_lifetime_ms: s.max_lifetime.map_or(u64::MAX, ms),
            next: 0,
            left: Vec::new(),
            size: Vec::new(),
            born: Vec::new(),
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
        if self.expiry == Expiry::SlidingCapped {
            self.born.push(ctx.now_ms());
        }
        if !ctx.set(self.ns.key(s), size, self.ttl_ms.min(self.max_lifetime_ms)) {
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
        // The TTL a request sets: none (fixed), the full TTL (sliding), or
        // what is left of the lifetime when that is shorter (capped).
        let ttl_ms = match self.expiry {
            Expiry::Fixed => 0,
            Expiry::Sliding => self.ttl_ms,
            Expiry::SlidingCapped => {
                let age = (ctx.now_ms() - self.born[s as usize]).max(0) as u64;
                self.ttl_ms
                    .min(self.max_lifetime_ms.saturating_sub(age))
                    .max(1)
            }
        };
        let read = match self.refresh {
            _ if ttl_ms == 0 => ctx.get(k),
            Refresh::Expire => {
                let r = ctx.get(k);
                if r.is_hit() {
                    ctx.expire(k, ttl_ms);
                }
                r
            }
            Refresh::Getex => ctx.getex(k, ttl_ms),
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

#[cfg(test)]
mod tests {
    use crate::sim::{run, RunSpec};
    use crate::workload::parse_workload;

    /// One user who logs in at 0 and reads every 7 s for 5 minutes, with a
    /// 60 s TTL: the re-logins after expiry, and the commands sent.
    fn one_reader(expiry: &str) -> (f64, f64) {
        let src = format!(
            r#"
name = "one"
duration = "5m"
[[pattern]]
kind = "sessions"
namespace = "s"
logins = {{ kind = "bursts", at = ["0s"], count = 1 }}
ttl = "60s"
think_time = {{ kind = "fixed", value = "7s" }}
requests = 1000000.0
logout = 0.0
value_size = {{ kind = "fixed", bytes = 100 }}
{expiry}
"#
        );
        let w = parse_workload(&src, "one.toml").unwrap();
        let r = run(&RunSpec::new(w)).unwrap();
        (
            r.num("s_relogin_after_expiry").unwrap(),
            r.num("s_expired_idle").unwrap(),
        )
    }

    #[test]
    fn sliding_never_expires_an_active_user() {
        assert_eq!(one_reader("").0, 0.0);
        assert_eq!(one_reader("expiry = \"sliding\"").0, 0.0);
    }

    #[test]
    fn fixed_expiry_logs_an_active_user_out_every_ttl() {
        // Sessions born at 0, 63, 126, 189 and 252 s each expire 60 s later,
        // and the next read (7 s grid) finds them gone: 4 re-logins in 5 min.
        let (relogins, expired) = one_reader("expiry = \"fixed\"");
        assert_eq!(relogins, 4.0);
        assert!(expired >= 4.0, "{expired}");
    }

    #[test]
    fn capped_sliding_expires_at_the_lifetime() {
        // Lifetime 100 s: born at 0 (read at 105 misses), then at 105 (read
        // at 210 misses), then at 210 (ends after the run): 2 re-logins.
        let (relogins, _) = one_reader("expiry = \"sliding-capped\"\nmax_lifetime = \"100s\"");
        assert_eq!(relogins, 2.0);
        let (relogins, _) =
            one_reader("expiry = \"sliding-capped\"\nmax_lifetime = \"100s\"\nrefresh = \"getex\"");
        assert_eq!(relogins, 2.0);
    }
}
