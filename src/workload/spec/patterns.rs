//! The `[[pattern]]` tables of a workload file: one serde struct per
//! client pattern `kind`, and [`PatternSpec`]'s accessors (namespace, key
//! length, report parameters) and validation.

use serde::{Deserialize, Serialize};

use crate::units::{fmt_f64, Dur};
use crate::workload::dist::{Arrival, DelayDist, Popularity, SizeDist};

/// How a session's TTL is refreshed on each request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refresh {
    /// GET, then EXPIRE key ttl (two commands, as in the article).
    Expire,
    /// GETEX key EX ttl (one command).
    Getex,
}

/// Whether a session's requests extend its lifetime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expiry {
    /// Each request resets the TTL.
    #[default]
    Sliding,
    /// The TTL runs from login; requests do not extend it.
    Fixed,
    /// Sliding, but never past `max_lifetime` after login.
    SlidingCapped,
}

/// One client pattern (a `[[pattern]]` table), chosen by `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PatternSpec {
    /// GET; on a miss, fetch from the origin and SET with a TTL.
    CacheAside(CacheAsideSpec),
    /// Logins (SETEX), requests that refresh the TTL, logouts (DEL).
    Sessions(SessionsSpec),
    /// Verification tokens created in campaigns, redeemed (GET, DEL) later.
    Tokens(TokensSpec),
    /// INCR a per-user counter; EXPIRE on the first request of a window.
    RateLimit(RateLimitSpec),
    /// Value and timestamp keys per feed, served fresh, stale or refetched.
    Swr(SwrSpec),
    /// SET NX PX locks released with DEL.
    Locks(LocksSpec),
    /// Keys written without a TTL, with occasional EXPIRE / PERSIST.
    Persistent(PersistentSpec),
}

/// `kind = "cache-aside"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheAsideSpec {
    /// Key prefix (the part before the last `:`).
    pub namespace: String,
    /// Byte length of a key name (default: namespace + `:` + 12).
    #[serde(default)]
    pub key_bytes: Option<u32>,
    /// Distinct keys.
    pub keys: u64,
    /// Which keys are read.
    pub popularity: Popularity,
    /// Size of the cached values.
    pub value_size: SizeDist,
    /// Requests.
    pub arrival: Arrival,
    /// TTL of a fill (absent: no TTL).
    #[serde(default)]
    pub ttl: Option<Dur>,
    /// A uniform random extra `0..=ttl_jitter` added to each TTL.
    #[serde(default)]
    pub ttl_jitter: Option<Dur>,
}

/// `kind = "sessions"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsSpec {
    /// Key prefix.
    pub namespace: String,
    /// Byte length of a key name (default: namespace + `:` + 32 hex chars).
    #[serde(default)]
    pub key_bytes: Option<u32>,
    /// Login arrivals.
    pub logins: Arrival,
    /// Session TTL, set at login and on every refresh.
    pub ttl: Dur,
    /// Time between a user's requests.
    pub think_time: DelayDist,
    /// Mean number of requests a user makes after logging in (geometric).
    pub requests: f64,
    /// Fraction of users who log out (DEL) after their last request; the
    /// others abandon the session and it expires.
    pub logout: f64,
    /// How requests refresh the TTL.
    #[serde(default = "default_refresh")]
    pub refresh: Refresh,
    /// Whether requests extend the session's lifetime.
    #[serde(default)]
    pub expiry: Expiry,
    /// With [`Expiry::SlidingCapped`]: the longest a session lives.
    #[serde(default)]
    pub max_lifetime: Option<Dur>,
    /// Size of the session value.
    pub value_size: SizeDist,
}

fn default_refresh() -> Refresh {
    Refresh::Expire
}

/// `kind = "tokens"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensSpec {
    /// Key prefix.
    pub namespace: String,
    /// Byte length of a key name (default: namespace + `:` + 43, a
    /// `token_urlsafe(32)`).
    #[serde(default)]
    pub key_bytes: Option<u32>,
    /// When tokens are created (usually `bursts`: one burst per campaign).
    pub campaigns: Arrival,
    /// Token TTL.
    pub ttl: Dur,
    /// Fraction of tokens that users try to redeem.
    pub redeem_fraction: f64,
    /// Delay from creation to the redemption attempt.
    pub redeem_delay: DelayDist,
    /// Size of the token value (the e-mail address).
    pub value_size: SizeDist,
}

/// `kind = "rate-limit"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Key prefix.
    pub namespace: String,
    /// Byte length of a key name (default: namespace + `:` + 12).
    #[serde(default)]
    pub key_bytes: Option<u32>,
    /// Distinct users.
    pub users: u64,
    /// Which users send requests.
    pub popularity: Popularity,
    /// Requests.
    pub arrival: Arrival,
    /// Requests allowed per window.
    pub limit: u64,
    /// Window length (the counter's TTL).
    pub window: Dur,
}

/// `kind = "swr"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwrSpec {
    /// Key prefix of the value keys; timestamp keys use `<namespace>:ts`.
    pub namespace: String,
    /// Byte length of a value key name (default: namespace + `:` + 12).
    #[serde(default)]
    pub key_bytes: Option<u32>,
    /// Distinct feeds.
    pub feeds: u64,
    /// Which feeds are read.
    pub popularity: Popularity,
    /// Reads.
    pub arrival: Arrival,
    /// Age below which a cached feed is fresh.
    pub revalidate: Dur,
    /// Age below which a stale feed may still be served (also the keys' TTL).
    pub max_stale: Dur,
    /// Size of a feed.
    pub value_size: SizeDist,
    /// Refetch in the background after serving a stale feed (default true).
    #[serde(default = "yes")]
    pub background_refresh: bool,
}

fn yes() -> bool {
    true
}

/// `kind = "locks"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocksSpec {
    /// Key prefix.
    pub namespace: String,
    /// Byte length of a key name (default: namespace + `:` + 12).
    #[serde(default)]
    pub key_bytes: Option<u32>,
    /// Distinct lockable resources.
    pub resources: u64,
    /// Which resources are locked.
    pub popularity: Popularity,
    /// Acquisition attempts.
    pub arrival: Arrival,
    /// How long a holder keeps the lock before DEL.
    pub hold: DelayDist,
    /// The lock's PX.
    pub ttl: Dur,
    /// Size of the owner token (default 36, a UUID).
    #[serde(default = "uuid_len")]
    pub owner_bytes: u32,
}

fn uuid_len() -> u32 {
    36
}

/// `kind = "persistent"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersistentSpec {
    /// Key prefix.
    pub namespace: String,
    /// Byte length of a key name (default: namespace + `:` + 12).
    #[serde(default)]
    pub key_bytes: Option<u32>,
    /// Distinct keys.
    pub keys: u64,
    /// Which keys are touched.
    pub popularity: Popularity,
    /// Requests.
    pub arrival: Arrival,
    /// Size of the values.
    pub value_size: SizeDist,
    /// Fraction of requests that SET (no TTL); the rest read (a missing key
    /// is reloaded from the database with SET).
    #[serde(default)]
    pub write_fraction: f64,
    /// Fraction of requests that EXPIRE the key by `expire_ttl`.
    #[serde(default)]
    pub expire_fraction: f64,
    /// Fraction of requests that PERSIST the key.
    #[serde(default)]
    pub persist_fraction: f64,
    /// TTL given by EXPIRE requests.
    #[serde(default)]
    pub expire_ttl: Option<Dur>,
}

impl PatternSpec {
    /// The namespace (key prefix) of the pattern's main keys.
    pub fn namespace(&self) -> &str {
        match self {
            PatternSpec::CacheAside(s) => &s.namespace,
            PatternSpec::Sessions(s) => &s.namespace,
            PatternSpec::Tokens(s) => &s.namespace,
            PatternSpec::RateLimit(s) => &s.namespace,
            PatternSpec::Swr(s) => &s.namespace,
            PatternSpec::Locks(s) => &s.namespace,
            PatternSpec::Persistent(s) => &s.namespace,
        }
    }

    /// The `kind` string.
    pub fn kind(&self) -> &'static str {
        match self {
            PatternSpec::CacheAside(_) => "cache-aside",
            PatternSpec::Sessions(_) => "sessions",
            PatternSpec::Tokens(_) => "tokens",
            PatternSpec::RateLimit(_) => "rate-limit",
            PatternSpec::Swr(_) => "swr",
            PatternSpec::Locks(_) => "locks",
            PatternSpec::Persistent(_) => "persistent",
        }
    }

    fn key_bytes_field(&self) -> Option<u32> {
        match self {
            PatternSpec::CacheAside(s) => s.key_bytes,
            PatternSpec::Sessions(s) => s.key_bytes,
            PatternSpec::Tokens(s) => s.key_bytes,
            PatternSpec::RateLimit(s) => s.key_bytes,
            PatternSpec::Swr(s) => s.key_bytes,
            PatternSpec::Locks(s) => s.key_bytes,
            PatternSpec::Persistent(s) => s.key_bytes,
        }
    }

    /// Byte length of the pattern's key names: `namespace:` plus a suffix
    /// of `key_bytes - namespace - 1` characters.
    pub fn key_bytes(&self) -> u32 {
        let ns = self.namespace().len() as u32 + 1;
        self.key_bytes_field().unwrap_or(match self {
            PatternSpec::Sessions(_) => ns + 32,
            PatternSpec::Tokens(_) => ns + 43,
            _ => ns + 12,
        })
    }

    /// The pattern's parameters for the `param_<namespace>_<name>` columns
    /// (durations in seconds, with an `_s` suffix).
    pub fn params(&self, duration: Dur) -> Vec<(String, String)> {
        let mut p: Vec<(&str, String)> = vec![("kind", self.kind().to_string())];
        let secs = |d: Dur| fmt_f64(d.secs());
        let opt_secs = |d: Option<Dur>| d.map_or("0".to_string(), |d| fmt_f64(d.secs()));
        let rate = |a: &Arrival| fmt_f64(a.mean_rate(duration));
        // Which keys are read and how often: every keyed pattern has these.
        let traffic = |p: &mut Vec<(&str, String)>, pop: &Popularity, arr: &Arrival| {
            p.push(("popularity", pop.describe()));
            p.push(("arrival", arr.describe()));
            p.push(("rate", rate(arr)));
        };
        match self {
            PatternSpec::CacheAside(s) => {
                p.push(("keys", s.keys.to_string()));
                p.push(("popularity", s.popularity.describe()));
                p.push(("value_size", s.value_size.describe()));
                p.push(("arrival", s.arrival.describe()));
                p.push(("rate", rate(&s.arrival)));
                p.push(("ttl_s", opt_secs(s.ttl)));
                p.push(("ttl_jitter_s", opt_secs(s.ttl_jitter)));
            }
            PatternSpec::Sessions(s) => {
                p.push(("logins", s.logins.describe()));
                p.push(("login_rate", rate(&s.logins)));
                p.push(("ttl_s", secs(s.ttl)));
                p.push(("think_time", s.think_time.describe()));
                p.push(("requests", fmt_f64(s.requests)));
                p.push(("logout", fmt_f64(s.logout)));
                p.push((
                    "refresh",
                    match s.refresh {
                        Refresh::Expire => "expire",
                        Refresh::Getex => "getex",
                    }
                    .into(),
                ));
                p.push((
                    "expiry",
                    match s.expiry {
                        Expiry::Sliding => "sliding",
                        Expiry::Fixed => "fixed",
                        Expiry::SlidingCapped => "sliding-capped",
                    }
                    .into(),
                ));
                p.push(("max_lifetime_s", opt_secs(s.max_lifetime)));
                p.push(("value_size", s.value_size.describe()));
            }
            PatternSpec::Tokens(s) => {
                p.push(("campaigns", s.campaigns.describe()));
                p.push(("ttl_s", secs(s.ttl)));
                p.push(("redeem_fraction", fmt_f64(s.redeem_fraction)));
                p.push(("redeem_delay", s.redeem_delay.describe()));
                p.push(("value_size", s.value_size.describe()));
            }
            PatternSpec::RateLimit(s) => {
                p.push(("users", s.users.to_string()));
                traffic(&mut p, &s.popularity, &s.arrival);
                p.push(("limit", s.limit.to_string()));
                p.push(("window_s", secs(s.window)));
            }
            PatternSpec::Swr(s) => {
                p.push(("feeds", s.feeds.to_string()));
                traffic(&mut p, &s.popularity, &s.arrival);
                p.push(("revalidate_s", secs(s.revalidate)));
                p.push(("max_stale_s", secs(s.max_stale)));
                p.push(("value_size", s.value_size.describe()));
                p.push(("background_refresh", s.background_refresh.to_string()));
            }
            PatternSpec::Locks(s) => {
                p.push(("resources", s.resources.to_string()));
                traffic(&mut p, &s.popularity, &s.arrival);
                p.push(("hold", s.hold.describe()));
                p.push(("ttl_s", secs(s.ttl)));
            }
            PatternSpec::Persistent(s) => {
                p.push(("keys", s.keys.to_string()));
                traffic(&mut p, &s.popularity, &s.arrival);
                p.push(("value_size", s.value_size.describe()));
                p.push(("write_fraction", fmt_f64(s.write_fraction)));
                p.push(("expire_fraction", fmt_f64(s.expire_fraction)));
                p.push(("persist_fraction", fmt_f64(s.persist_fraction)));
                p.push(("expire_ttl_s", opt_secs(s.expire_ttl)));
            }
        }
        p.push(("key_bytes", self.key_bytes().to_string()));
        p.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

/// Lowercases and maps every character outside `[a-z0-9_]` to `_`, for
/// column names.
pub fn sanitize(ns: &str) -> String {
    ns.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
