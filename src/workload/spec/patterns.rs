//! The `[[pattern]]` tables of a workload file: one serde struct per
//! client pattern `kind`, and [`PatternSpec`]'s accessors (namespace, key
//! length, report parameters) and validation.

use serde::{Deserialize, Serialize};

use super::schema::{self, Family, Ty};
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

    /// The pattern's key popularity, for the patterns that draw keys by one.
    pub fn popularity_mut(&mut self) -> Option<&mut Popularity> {
        match self {
            PatternSpec::CacheAside(s) => Some(&mut s.popularity),
            PatternSpec::Persistent(s) => Some(&mut s.popularity),
            PatternSpec::RateLimit(s) => Some(&mut s.popularity),
            PatternSpec::Swr(s) => Some(&mut s.popularity),
            PatternSpec::Locks(s) => Some(&mut s.popularity),
            PatternSpec::Sessions(_) | PatternSpec::Tokens(_) => None,
        }
    }

    /// The pattern's parameters for the `param_<namespace>_<name>` columns,
    /// one value per column: every field of the registry, with each
    /// distribution or arrival split into `<field>_kind` and one column per
    /// parameter, unit suffixes (`_s` for durations, `_bytes`, `_per_s`),
    /// and an empty cell for an absent optional field. Each arrival also
    /// gets `<field>_mean_per_s` over `duration`.
    pub fn params(&self, duration: Dur) -> Vec<(String, String)> {
        let mut out = vec![("kind".to_string(), self.kind().to_string())];
        let form = schema::pattern(self.kind()).expect("every kind is in the registry");
        // A miniature's sampled popularity is shown as the one it samples.
        let mut spec = self.clone();
        if let Some(p) = spec.popularity_mut() {
            if let Popularity::Sampled(k) = p {
                *p = (*k.source).clone();
            }
        }
        let toml::Value::Table(t) = toml::Value::try_from(&spec).expect("a spec serializes") else {
            unreachable!("a pattern serializes to a table")
        };
        for f in form.fields.iter().filter(|f| f.name != "namespace") {
            if f.name == "key_bytes" {
                continue;
            }
            flatten(&mut out, f.name, &f.ty, f.unit, t.get(f.name));
            if let (Ty::Form(Family::Arrival), Some(v)) = (f.ty, t.get(f.name)) {
                let a = Arrival::deserialize(v.clone()).expect("an arrival round-trips");
                out.push((
                    format!("{}_mean_per_s", f.name),
                    fmt_f64(a.mean_rate(duration)),
                ));
            }
        }
        out.push(("key_bytes".into(), self.key_bytes().to_string()));
        out
    }
}

/// The column suffix of a unit in the registry.
fn suffix(ty: &Ty, unit: &str) -> &'static str {
    match (ty, unit) {
        (Ty::Duration { .. }, _) => "_s",
        (_, "bytes") => "_bytes",
        (_, u) if u.ends_with("per second") => "_per_s",
        _ => "",
    }
}

/// One value as a cell: numbers plain, durations in seconds.
fn cell(ty: &Ty, v: &toml::Value) -> String {
    match (ty, v) {
        (Ty::Duration { .. }, toml::Value::String(d)) => {
            Dur::parse(d).map_or_else(|_| d.clone(), |d| fmt_f64(d.secs()))
        }
        (_, toml::Value::String(s)) => s.clone(),
        (_, toml::Value::Float(x)) => fmt_f64(*x),
        (_, toml::Value::Array(items)) => {
            let each: Vec<String> = items.iter().map(|x| cell(&Ty::Text, x)).collect();
            each.join(";")
        }
        (_, other) => other.to_string(),
    }
}

/// Appends the columns of one field (several for a form).
fn flatten(
    out: &mut Vec<(String, String)>,
    name: &str,
    ty: &Ty,
    unit: &str,
    v: Option<&toml::Value>,
) {
    match (ty, v) {
        (Ty::Form(fam), Some(toml::Value::Table(t))) => {
            let kind = t.get("kind").and_then(|k| k.as_str()).unwrap_or("");
            out.push((format!("{name}_kind"), kind.to_string()));
            if let Some(form) = fam.forms().iter().find(|f| f.kind == kind) {
                for sub in form.fields {
                    flatten(
                        out,
                        &format!("{name}_{}", sub.name),
                        &sub.ty,
                        sub.unit,
                        t.get(sub.name),
                    );
                }
            }
        }
        // A list is one text cell of its values as written, `;`-separated.
        (Ty::List(..), _) => out.push((
            name.to_string(),
            v.map_or(String::new(), |v| cell(&Ty::Text, v)),
        )),
        _ => out.push((
            format!("{name}{}", suffix(ty, unit)),
            v.map_or(String::new(), |v| cell(ty, v)),
        )),
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
