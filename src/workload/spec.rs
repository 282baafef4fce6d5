//! Workload files: the serde structs of the TOML format, and validation.
//!
//! ```toml
//! name = "sessions"
//! duration = "2h"          # total simulated time, warm-up included
//! warmup = "30m"           # or a request count: warmup = 100000
//! seed = 1
//!
//! [server]                 # Redis's own config names and value syntax
//! maxmemory = "64mb"
//! maxmemory-policy = "volatile-lru"
//!
//! [[pattern]]
//! kind = "sessions"
//! namespace = "session"
//! ttl = "30m"
//! ...
//! ```
//!
//! Parsing refuses unknown fields; validation refuses impossible values
//! (zero sizes, rates and TTLs, unknown policies) before a run starts. Both
//! report `file:line:column: message` naming the field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use super::dist::{Arrival, DelayDist, Popularity, SizeDist};
use crate::store::config::{self, ConfigError};
use crate::store::Config;
use crate::units::{fmt_f64, Dur};

/// A workload ready to run: server settings applied to a store [`Config`],
/// and the client patterns.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// Name (used for `results/<name>/`).
    pub name: String,
    /// Total simulated time, warm-up included (`None`: until the last request
    /// of a trace).
    pub duration: Option<Dur>,
    /// The part of the run excluded from metrics.
    pub warmup: Warmup,
    /// Run seed: every random stream of the run derives from it.
    pub seed: u64,
    /// The server settings.
    pub server: Config,
    /// The clients sharing the server.
    pub patterns: Vec<PatternSpec>,
}

/// Warm-up: a simulated time or a number of requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Warmup {
    /// No warm-up.
    #[default]
    None,
    /// The first `n` client commands.
    Requests(u64),
    /// The first span of simulated time.
    Time(Dur),
}

impl Warmup {
    /// Parses `10000` (requests) or `30s` (time).
    pub fn parse(s: &str) -> Result<Warmup, String> {
        let t = s.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            let n: u64 = t
                .parse()
                .map_err(|_| format!("warm-up `{s}` is too large"))?;
            return Ok(if n == 0 {
                Warmup::None
            } else {
                Warmup::Requests(n)
            });
        }
        let d = Dur::parse(t)
            .map_err(|e| format!("warm-up must be a request count or a duration: {e}"))?;
        Ok(if d.0 == 0 {
            Warmup::None
        } else {
            Warmup::Time(d)
        })
    }
}

impl fmt::Display for Warmup {
    /// `0`, a request count, or a duration in ms such as `30000ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warmup::None => f.write_str("0"),
            Warmup::Requests(n) => write!(f, "{n}"),
            Warmup::Time(d) => write!(f, "{}ms", d.ms()),
        }
    }
}

/// A value in `[server]`: Redis config values are strings or integers.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum ConfValue {
    Int(i64),
    Str(String),
}

impl fmt::Display for ConfValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfValue::Int(v) => write!(f, "{v}"),
            ConfValue::Str(s) => f.write_str(s),
        }
    }
}

/// Warm-up as written: an integer (requests) or a duration string.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum WarmupValue {
    Requests(i64),
    Text(String),
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    name: String,
    duration: Dur,
    #[serde(default)]
    warmup: Option<toml::Spanned<WarmupValue>>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    server: BTreeMap<String, toml::Spanned<ConfValue>>,
    #[serde(rename = "pattern", default)]
    patterns: Vec<PatternSpec>,
    /// The `[sweep]` table: lists of values `ttlsim sweep` runs the product
    /// of. A single `ttlsim run` of the file ignores it.
    #[serde(default)]
    #[allow(dead_code)]
    sweep: Option<toml::Table>,
}

/// How a session's TTL is refreshed on each request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refresh {
    /// GET, then EXPIRE key ttl (two commands, as in the article).
    Expire,
    /// GETEX key EX ttl (one command).
    Getex,
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

/// A validation failure: the field of a pattern (or of the file) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as the file names it (`popularity`, `ttl`, ...).
    pub field: &'static str,
    /// What is wrong, in the user's words.
    pub message: String,
}

fn need(cond: bool, field: &'static str, msg: impl Into<String>) -> Result<(), FieldError> {
    if cond {
        Ok(())
    } else {
        Err(FieldError {
            field,
            message: msg.into(),
        })
    }
}

fn ok_dur(d: Dur, field: &'static str) -> Result<(), FieldError> {
    need(
        d.0 >= 1000,
        field,
        format!("{field} must be at least 1ms, got {d}"),
    )
}

fn frac(v: f64, field: &'static str) -> Result<(), FieldError> {
    need(
        (0.0..=1.0).contains(&v),
        field,
        format!("{field} must be between 0 and 1, got {}", fmt_f64(v)),
    )
}

fn tag<T>(r: Result<T, String>, field: &'static str) -> Result<T, FieldError> {
    r.map_err(|m| FieldError {
        field,
        message: format!("{field}: {m}"),
    })
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

    /// Refuses impossible values, naming the field.
    pub fn validate(&self) -> Result<(), FieldError> {
        let ns = self.namespace();
        need(
            !ns.is_empty()
                && ns
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b',' && b != b'"'),
            "namespace",
            format!("namespace `{ns}` must be non-empty printable text without commas, quotes or spaces"),
        )?;
        let min_key = ns.len() as u32 + 1 + 8;
        need(
            self.key_bytes() >= min_key,
            "key_bytes",
            format!(
                "key_bytes must be at least {min_key} (namespace, `:` and 8 characters), got {}",
                self.key_bytes()
            ),
        )?;
        match self {
            PatternSpec::CacheAside(s) => {
                need(s.keys > 0, "keys", "keys must be > 0")?;
                tag(s.popularity.validate(), "popularity")?;
                tag(s.value_size.validate(), "value_size")?;
                tag(s.arrival.validate(), "arrival")?;
                if let Some(t) = s.ttl {
                    ok_dur(t, "ttl")?;
                }
                need(
                    s.ttl_jitter.is_none() || s.ttl.is_some(),
                    "ttl_jitter",
                    "ttl_jitter needs a ttl",
                )?;
            }
            PatternSpec::Sessions(s) => {
                tag(s.logins.validate(), "logins")?;
                ok_dur(s.ttl, "ttl")?;
                tag(s.think_time.validate(), "think_time")?;
                need(
                    s.requests.is_finite() && s.requests >= 0.0,
                    "requests",
                    format!("requests must be >= 0, got {}", fmt_f64(s.requests)),
                )?;
                frac(s.logout, "logout")?;
                tag(s.value_size.validate(), "value_size")?;
            }
            PatternSpec::Tokens(s) => {
                tag(s.campaigns.validate(), "campaigns")?;
                ok_dur(s.ttl, "ttl")?;
                frac(s.redeem_fraction, "redeem_fraction")?;
                tag(s.redeem_delay.validate(), "redeem_delay")?;
                tag(s.value_size.validate(), "value_size")?;
            }
            PatternSpec::RateLimit(s) => {
                need(s.users > 0, "users", "users must be > 0")?;
                tag(s.popularity.validate(), "popularity")?;
                tag(s.arrival.validate(), "arrival")?;
                need(s.limit > 0, "limit", "limit must be > 0")?;
                ok_dur(s.window, "window")?;
            }
            PatternSpec::Swr(s) => {
                need(s.feeds > 0, "feeds", "feeds must be > 0")?;
                tag(s.popularity.validate(), "popularity")?;
                tag(s.arrival.validate(), "arrival")?;
                ok_dur(s.revalidate, "revalidate")?;
                ok_dur(s.max_stale, "max_stale")?;
                need(
                    s.max_stale >= s.revalidate,
                    "max_stale",
                    format!(
                        "max_stale ({}) must be at least revalidate ({})",
                        s.max_stale, s.revalidate
                    ),
                )?;
                tag(s.value_size.validate(), "value_size")?;
            }
            PatternSpec::Locks(s) => {
                need(s.resources > 0, "resources", "resources must be > 0")?;
                tag(s.popularity.validate(), "popularity")?;
                tag(s.arrival.validate(), "arrival")?;
                tag(s.hold.validate(), "hold")?;
                ok_dur(s.ttl, "ttl")?;
                need(s.owner_bytes > 0, "owner_bytes", "owner_bytes must be > 0")?;
            }
            PatternSpec::Persistent(s) => {
                need(s.keys > 0, "keys", "keys must be > 0")?;
                tag(s.popularity.validate(), "popularity")?;
                tag(s.arrival.validate(), "arrival")?;
                tag(s.value_size.validate(), "value_size")?;
                frac(s.write_fraction, "write_fraction")?;
                frac(s.expire_fraction, "expire_fraction")?;
                frac(s.persist_fraction, "persist_fraction")?;
                need(
                    s.write_fraction + s.expire_fraction + s.persist_fraction <= 1.0 + 1e-9,
                    "persist_fraction",
                    "write_fraction + expire_fraction + persist_fraction must be <= 1",
                )?;
                need(
                    s.expire_fraction == 0.0 || s.expire_ttl.is_some(),
                    "expire_ttl",
                    "expire_fraction > 0 needs an expire_ttl",
                )?;
                if let Some(t) = s.expire_ttl {
                    ok_dur(t, "expire_ttl")?;
                }
            }
        }
        Ok(())
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

/// A workload file error, located in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {msg}")]
pub struct SpecError {
    /// The file as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong, naming the field.
    pub msg: String,
}

/// 1-based line and column of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Byte offset of the line that sets `key` (`key =`, `"key" =`) at or after
/// `from`, before the next table header that follows `from`'s line.
fn find_key(src: &str, from: usize, key: &str) -> Option<usize> {
    let mut off = src[..from.min(src.len())].rfind('\n').map_or(0, |i| i + 1);
    let mut first = true;
    for line in src[off..].split_inclusive('\n') {
        let t = line.trim_start();
        if !first && t.starts_with('[') {
            return None;
        }
        first = false;
        let rest = t
            .strip_prefix(key)
            .or_else(|| t.strip_prefix(&format!("\"{key}\"")));
        if let Some(rest) = rest {
            if rest.trim_start().starts_with('=') {
                return Some(off + (line.len() - t.len()));
            }
        }
        // Inline tables: `arrival = { kind = "poisson", rate = -1 }`.
        if let Some(i) = t
            .find(&format!(" {key} ="))
            .or_else(|| t.find(&format!("{{{key} =")))
        {
            return Some(off + (line.len() - t.len()) + i + 1);
        }
        off += line.len();
    }
    None
}

/// The line at or after `from` (up to the next table header) whose value
/// contains `tok`: its offset and its key.
fn find_value(src: &str, from: usize, tok: &str) -> Option<(usize, String)> {
    let mut off = src[..from.min(src.len())].rfind('\n').map_or(0, |i| i + 1);
    let mut first = true;
    for line in src[off..].split_inclusive('\n') {
        let t = line.trim_start();
        if !first && t.starts_with('[') {
            return None;
        }
        first = false;
        if let Some((key, value)) = t.split_once('=') {
            if value.contains(tok) && !t.starts_with('#') {
                return Some((
                    off + (line.len() - t.len()),
                    key.trim().trim_matches('"').to_string(),
                ));
            }
        }
        off += line.len();
    }
    None
}

/// Offset of the `n`-th (0-based) `[[pattern]]` header.
fn pattern_header(src: &str, n: usize) -> Option<usize> {
    let mut off = 0;
    let mut seen = 0;
    for line in src.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with("[[")
            && t.trim_start_matches('[')
                .trim_start()
                .starts_with("pattern")
        {
            if seen == n {
                return Some(off);
            }
            seen += 1;
        }
        off += line.len();
    }
    None
}

/// Offset of the `[server]` header.
fn server_header(src: &str) -> Option<usize> {
    let mut off = 0;
    for line in src.split_inclusive('\n') {
        if line.trim().starts_with("[server") {
            return Some(off);
        }
        off += line.len();
    }
    None
}

/// Parses and validates a workload file's text. `file` names it in errors.
pub fn parse_workload(src: &str, file: &str) -> Result<Workload, SpecError> {
    let err_at = |off: usize, msg: String| {
        let (line, col) = line_col(src, off);
        SpecError {
            file: file.to_string(),
            line,
            col,
            msg,
        }
    };
    let spec: FileSpec = toml::from_str(src).map_err(|e| {
        let msg = e.message().trim().to_string();
        let mut off = e.span().map_or(0, |s| s.start);
        // Errors inside a `[[pattern]]` point at the table: point at the key.
        if let Some(rest) = msg.strip_prefix("unknown field `") {
            if let Some(key) = rest.split('`').next() {
                if let Some(k) = find_key(src, off, key) {
                    off = k;
                }
            }
        }
        // Value errors inside a `[[pattern]]` also point at the table: find
        // the line whose value holds the offending text, and name its key.
        let mut msg = msg;
        if !msg.starts_with("unknown field") {
            // serde quotes numbers in backticks and strings in double quotes.
            let tok = msg
                .split('`')
                .nth(1)
                .filter(|t| !t.is_empty())
                .or_else(|| {
                    msg.strip_prefix("invalid type: string \"")
                        .and_then(|r| r.split('"').next())
                        .filter(|t| !t.is_empty())
                })
                .map(str::to_string);
            if let Some(tok) = tok.as_deref() {
                if let Some((k_off, key)) = find_value(src, off, tok) {
                    off = k_off;
                    msg = format!("field `{key}`: {msg}");
                }
            }
        }
        let msg = if msg.contains("kind") && msg.contains("unknown variant") {
            format!("pattern {msg}")
        } else {
            msg
        };
        err_at(off, msg)
    })?;

    let mut server = Config::default();
    for (name, value) in &spec.server {
        let off = value.span().start;
        if let Err(e) = server.set_strict(name, &value.get_ref().to_string()) {
            let off = find_key(src, server_header(src).unwrap_or(off), name).unwrap_or(off);
            return Err(err_at(
                off,
                match e {
                    ConfigError::UnknownName => format!(
                        "unknown field `{name}` in [server], expected one of {}",
                        config::NAMES.map(|n| format!("`{n}`")).join(", ")
                    ),
                    ConfigError::BadValue(reason) => format!("{name}: {reason}"),
                },
            ));
        }
    }

    let warmup = match &spec.warmup {
        None => Warmup::None,
        Some(w) => {
            let off = w.span().start;
            match w.get_ref() {
                WarmupValue::Requests(n) if *n < 0 => {
                    return Err(err_at(
                        off,
                        format!("warmup must be >= 0 requests, got {n}"),
                    ))
                }
                WarmupValue::Requests(n) => Warmup::parse(&n.to_string()),
                WarmupValue::Text(s) => Warmup::parse(s),
            }
            .map_err(|m| err_at(off, format!("warmup: {m}")))?
        }
    };
    let top = |key: &str| find_key(src, 0, key).unwrap_or(0);
    if spec.duration.0 < 1000 {
        return Err(err_at(
            top("duration"),
            "duration must be at least 1ms".into(),
        ));
    }
    if let Warmup::Time(w) = warmup {
        if w >= spec.duration {
            return Err(err_at(
                top("warmup"),
                format!(
                    "warmup ({w}) must be shorter than duration ({})",
                    spec.duration
                ),
            ));
        }
    }
    if spec.patterns.is_empty() {
        return Err(err_at(
            0,
            "no [[pattern]] table: a workload needs at least one client pattern".into(),
        ));
    }
    let mut seen: Vec<String> = Vec::new();
    for (i, p) in spec.patterns.iter().enumerate() {
        let header = pattern_header(src, i).unwrap_or(0);
        if let Err(FieldError {
            field,
            message: msg,
        }) = p.validate()
        {
            let off = find_key(src, header, field).unwrap_or(header);
            return Err(err_at(
                off,
                format!("pattern `{}` ({}): {msg}", p.namespace(), p.kind()),
            ));
        }
        let s = sanitize(p.namespace());
        if seen.contains(&s) {
            let off = find_key(src, header, "namespace").unwrap_or(header);
            return Err(err_at(
                off,
                format!("namespace `{}` is used by two patterns (namespaces must differ after mapping to [a-z0-9_])", p.namespace()),
            ));
        }
        seen.push(s);
    }
    Ok(Workload {
        name: spec.name,
        duration: Some(spec.duration),
        warmup,
        seed: spec.seed.unwrap_or(1),
        server,
        patterns: spec.patterns,
    })
}

impl Workload {
    /// An empty workload for replaying a trace named `name`: default server,
    /// no duration (until the last request), seed 1.
    pub fn for_trace(name: &str) -> Self {
        Workload {
            name: name.to_string(),
            duration: None,
            warmup: Warmup::None,
            seed: 1,
            server: Config::default(),
            patterns: Vec::new(),
        }
    }

    /// Overrides a server setting by its Redis name (`maxmemory`,
    /// `maxmemory-policy`, ...), with Redis's value syntax and checks.
    pub fn set_server(&mut self, name: &str, value: &str) -> Result<(), String> {
        self.server.set_strict(name, value).map_err(|e| match e {
            ConfigError::UnknownName => format!(
                "unknown server setting `{name}`, expected one of {}",
                config::NAMES.join(", ")
            ),
            ConfigError::BadValue(reason) => format!("--{name} {value}: {reason}"),
        })
    }

    /// The server settings as `--name value` flags (for a replay command line).
    pub fn server_flags(&self) -> String {
        config::NAMES
            .iter()
            .filter_map(|n| Some(format!("--{n} {}", self.server.get(n)?)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Reads and parses a workload file.
pub fn load_workload(path: &Path) -> anyhow::Result<Workload> {
    let src = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    Ok(parse_workload(&src, &path.display().to_string())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
duration = "10m"
warmup = "1m"

[server]
maxmemory = "64mb"
maxmemory-policy = "allkeys-lru"
hz = 10

[[pattern]]
kind = "cache-aside"
namespace = "cache"
keys = 1000
popularity = { kind = "zipf", s = 0.99 }
value_size = { kind = "fixed", bytes = 100 }
arrival = { kind = "poisson", rate = 100.0 }
ttl = "5m"
"#;

    #[test]
    fn parses_a_good_file() {
        let w = parse_workload(GOOD, "x.toml").unwrap();
        assert_eq!(w.server.maxmemory, 64 << 20);
        assert_eq!(w.warmup, Warmup::Time(Dur(60_000_000)));
        assert_eq!(w.patterns.len(), 1);
        assert_eq!(w.patterns[0].key_bytes(), 6 + 12);
    }

    #[test]
    fn unknown_field_names_line_and_field() {
        let src = GOOD.replace("ttl = \"5m\"", "ttl_sec = 300");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        assert_eq!(e.line, 18, "{e}");
        assert!(e.msg.contains("unknown field `ttl_sec`"), "{e}");
        assert!(e.msg.contains("ttl_jitter"), "lists the valid fields: {e}");
    }

    #[test]
    fn unknown_policy_lists_valid_ones() {
        let src = GOOD.replace("allkeys-lru", "lru");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        assert_eq!(e.line, 8, "{e}");
        assert!(
            e.msg.contains("maxmemory-policy") && e.msg.contains("volatile-ttl"),
            "{e}"
        );
    }

    #[test]
    fn impossible_values_are_refused() {
        let src = GOOD.replace("rate = 100.0", "rate = -5.0");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        assert_eq!(e.line, 17, "{e}");
        assert!(e.msg.contains("arrival") && e.msg.contains("> 0"), "{e}");
        let src = GOOD.replace("ttl = \"5m\"", "ttl = \"-5m\"");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        assert_eq!(e.line, 18, "{e}");
        assert!(
            e.msg.contains("field `ttl`") && e.msg.contains("negative"),
            "{e}"
        );
        let src = GOOD.replace("bytes = 100", "bytes = 0");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        assert!(e.msg.contains("value_size"), "{e}");
        let src = GOOD.replace("hz = 10", "hz = \"fast\"");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        assert!(e.msg.contains("hz"), "{e}");
        let src = GOOD.replace("hz = 10", "maxmemory-polcy = 1");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        assert!(e.msg.contains("unknown field `maxmemory-polcy`"), "{e}");
    }

    #[test]
    fn unknown_kind() {
        let src = GOOD.replace("cache-aside", "cache");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        assert!(e.msg.contains("unknown variant `cache`"), "{e}");
    }

    #[test]
    fn sanitizes_namespaces() {
        assert_eq!(sanitize("email:Verify-2"), "email_verify_2");
    }
}
