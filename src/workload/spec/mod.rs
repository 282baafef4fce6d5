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
use std::fmt;
use std::path::Path;

use crate::store::config::{self, ConfigError};
use crate::store::Config;
use crate::units::Dur;

mod patterns;
mod position;
mod read;
pub mod schema;

pub use patterns::{
    sanitize, CacheAsideSpec, Expiry, LocksSpec, PatternSpec, PersistentSpec, RateLimitSpec,
    Refresh, SessionsSpec, SwrSpec, TokensSpec,
};
pub use position::line_col;

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

/// The file as written (the `[server]` table and `warmup` are read by the
/// reader, `[sweep]` by `ttlsim sweep`).
#[derive(Deserialize)]
struct FileSpec {
    name: String,
    duration: Dur,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(rename = "pattern", default)]
    patterns: Vec<PatternSpec>,
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
    let reader = read::Reader::new(src, file);
    let (doc, checked) = reader.read()?;
    // Every value was checked above: this cannot fail on a type or range.
    let spec = FileSpec::deserialize(toml_edit::de::Deserializer::from(doc))
        .map_err(|e| reader.err_at(e.span().map_or(0, |s| s.start), "", e.message().trim()))?;
    Ok(Workload {
        name: spec.name,
        duration: Some(spec.duration),
        warmup: checked.warmup,
        seed: spec.seed.unwrap_or(1),
        server: checked.server,
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
    fn unknown_field_names_line_column_path_and_valid_fields() {
        let src = GOOD.replace("ttl = \"5m\"", "ttl_sec = 300");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        assert_eq!((e.line, e.col), (18, 1), "{e}");
        assert!(
            e.msg.starts_with("pattern[1].ttl_sec: unknown field"),
            "{e}"
        );
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
    fn values_inside_inline_tables_are_pointed_at() {
        let src = GOOD.replace("rate = 100.0", "rate = -5.0");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        // `arrival = { kind = "poisson", rate = -5.0 }`: the `-5.0`.
        assert_eq!((e.line, e.col), (17, 38), "{e}");
        assert!(
            e.msg
                .starts_with("pattern[1].arrival.rate: expected a number above 0"),
            "{e}"
        );
        assert!(e.msg.ends_with("; got -5.0"), "{e}");
        let src = GOOD.replace("{ kind = \"zipf\", s = 0.99 }", "{ kind = \"zipf\" }");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        assert_eq!((e.line, e.col), (15, 14), "{e}");
        assert!(e.msg.starts_with("pattern[1].popularity.s: missing"), "{e}");
    }

    #[test]
    fn impossible_values_are_refused_naming_the_field() {
        for (from, to, path) in [
            ("ttl = \"5m\"", "ttl = \"-5m\"", "pattern[1].ttl: "),
            ("bytes = 100", "bytes = 0", "pattern[1].value_size.bytes: "),
            ("hz = 10", "hz = \"fast\"", "server.hz: "),
            (
                "hz = 10",
                "maxmemory-polcy = 1",
                "server.maxmemory-polcy: unknown",
            ),
            (
                "keys = 1000",
                "keys = 1000.5",
                "pattern[1].keys: expected a whole number",
            ),
        ] {
            let e = parse_workload(&GOOD.replace(from, to), "x.toml").unwrap_err();
            assert!(e.msg.starts_with(path), "{to}: {e}");
        }
    }

    #[test]
    fn unknown_kind_lists_the_kinds() {
        let src = GOOD.replace("cache-aside", "cache");
        let e = parse_workload(&src, "x.toml").unwrap_err();
        assert!(
            e.msg
                .starts_with("pattern[1].kind: expected one of \"cache-aside\""),
            "{e}"
        );
        assert!(e.msg.ends_with("; got \"cache\""), "{e}");
    }

    #[test]
    fn ten_thousand_patterns_parse_fast() {
        let mut src = String::from("name = \"big\"\nduration = \"1m\"\n");
        for i in 0..10_000 {
            src.push_str(&format!(
                "[[pattern]]\nkind = \"rate-limit\"\nnamespace = \"rl{i}\"\nusers = 10\npopularity = {{ kind = \"uniform\" }}\narrival = {{ kind = \"poisson\", rate = 1.0 }}\nlimit = 5\nwindow = \"1m\"\n"
            ));
        }
        let t = std::time::Instant::now();
        let w = parse_workload(&src, "big.toml").unwrap();
        assert_eq!(w.patterns.len(), 10_000);
        // Linear: a per-pattern rescan of the file took minutes here.
        assert!(t.elapsed().as_secs_f64() < 5.0, "{:?}", t.elapsed());
        // An error in the last pattern is found at its line.
        let bad = src.clone() + "[[pattern]]\nkind = \"rate-limit\"\nnamespace = \"rl9999\"\n";
        let e = parse_workload(&bad, "big.toml").unwrap_err();
        assert!(e.msg.starts_with("pattern[10001].users: missing"), "{e}");
    }

    #[test]
    fn sanitizes_namespaces() {
        assert_eq!(sanitize("email:Verify-2"), "email_verify_2");
    }
}
