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

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::store::config::{self, ConfigError};
use crate::store::Config;
use crate::units::Dur;

mod patterns;
mod position;

pub use patterns::{
    sanitize, CacheAsideSpec, FieldError, LocksSpec, PatternSpec, PersistentSpec, RateLimitSpec,
    Refresh, SessionsSpec, SwrSpec, TokensSpec,
};
pub use position::line_col;
use position::{find_key, find_value, pattern_header, server_header};

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

    /// Refuses a time warm-up that is not shorter than the duration, for
    /// settings changed after the file was parsed (flags, sweep points).
    pub fn check_warmup(&self) -> Result<(), String> {
        match (self.warmup, self.duration) {
            (Warmup::Time(wu), Some(d)) if wu >= d => Err(format!(
                "the warm-up ({wu}) must be shorter than the duration ({d})"
            )),
            _ => Ok(()),
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
