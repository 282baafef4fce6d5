//! The field registry of workload files: every table, field, type, valid
//! range, unit, default, meaning and example, in one place.
//!
//! The reader (`read.rs`) checks a file against it, and `docs/workloads.md`'s
//! field tables are generated from it ([`markdown_tables`]), so the parser,
//! its error messages and the reference cannot drift apart.

/// Largest duration any field accepts: 36500 days (100 years), far beyond a
/// useful simulation and far below where microseconds overflow.
pub const MAX_DUR_US: u64 = 36_500 * 86_400 * 1_000_000;

/// Largest value size in bytes (Redis's `proto-max-bulk-len`, 512 MiB).
pub const MAX_BYTES: i64 = 512 << 20;

/// Most distinct keys (users, feeds, resources) a pattern may have.
pub const MAX_KEYS: i64 = 1_000_000_000_000;

/// The type and valid range of a field.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// A string.
    Text,
    /// A key prefix: printable, no spaces, commas or quotes.
    Name,
    /// A whole number in `min..=max`.
    Count {
        /// Smallest.
        min: i64,
        /// Largest.
        max: i64,
    },
    /// A number (integer or float) in `min..=max`, or `(min, max]` when
    /// `above_min`.
    Number {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
        /// The lower bound itself is excluded.
        above_min: bool,
    },
    /// A duration string in `min_us..=MAX_DUR_US`.
    Duration {
        /// Shortest, in µs.
        min_us: u64,
    },
    /// `true` or `false`.
    Bool,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// A request count (whole number) or a duration string.
    Warmup,
    /// An inline table with a `kind` from a family of forms.
    Form(Family),
    /// An array of values of one type, at most `max_len` long.
    List(&'static Ty, usize),
    /// The `[server]` table: Redis config names and values.
    Server,
    /// The `[[pattern]]` tables.
    Patterns,
    /// The `[sweep]` table (read by `ttlsim sweep`).
    Sweep,
}

/// One field of a table.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The key as written in the file.
    pub name: &'static str,
    /// Type and valid range.
    pub ty: Ty,
    /// Unit of the value (empty when it has none).
    pub unit: &'static str,
    /// The default, in words or TOML; `None`: the field is required.
    pub default: Option<&'static str>,
    /// What the field means.
    pub meaning: &'static str,
    /// A valid value, as TOML.
    pub example: &'static str,
}

/// One `kind` of a table with a kind: a pattern, or a form of a family.
#[derive(Clone, Copy, Debug)]
pub struct Form {
    /// The `kind` string.
    pub kind: &'static str,
    /// What it does.
    pub meaning: &'static str,
    /// Its fields (besides `kind`).
    pub fields: &'static [Field],
}

/// The families of inline tables with a `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Which keys requests touch.
    Popularity,
    /// Value sizes in bytes.
    Size,
    /// Random delays.
    Delay,
    /// Arrival processes.
    Arrival,
}

impl Family {
    /// Every family, in the reference's order.
    pub const ALL: [Family; 4] = [
        Family::Popularity,
        Family::Size,
        Family::Delay,
        Family::Arrival,
    ];

    /// Its forms.
    pub fn forms(self) -> &'static [Form] {
        match self {
            Family::Popularity => POPULARITY,
            Family::Size => SIZES,
            Family::Delay => DELAYS,
            Family::Arrival => ARRIVALS,
        }
    }

    /// Its name in the reference.
    pub fn name(self) -> &'static str {
        match self {
            Family::Popularity => "popularity",
            Family::Size => "size",
            Family::Delay => "delay",
            Family::Arrival => "arrival",
        }
    }

    /// A valid example.
    pub fn example(self) -> &'static str {
        match self {
            Family::Popularity => "{ kind = \"zipf\", s = 0.99 }",
            Family::Size => "{ kind = \"lognormal\", median = 400, sigma = 0.5 }",
            Family::Delay => "{ kind = \"exponential\", mean = \"30s\" }",
            Family::Arrival => "{ kind = \"poisson\", rate = 50.0 }",
        }
    }
}

impl Ty {
    /// The expected value in words (`a whole number from 1 to 100`).
    pub fn describe(&self) -> String {
        match *self {
            Ty::Text => "a string".into(),
            Ty::Name => "a key prefix (printable text without spaces, commas or quotes)".into(),
            Ty::Count { min, max } => format!("a whole number from {min} to {max}"),
            Ty::Number {
                min,
                max,
                above_min: true,
            } => format!("a number above {min} and at most {max}"),
            Ty::Number { min, max, .. } if min == 0.0 && max == 1.0 => {
                "a fraction from 0 to 1".into()
            }
            Ty::Number { min, max, .. } => format!("a number from {min} to {max}"),
            Ty::Duration { min_us } => format!(
                "a duration string from {} to 36500d (units us, ms, s, m, h, d)",
                crate::units::Dur(min_us)
            ),
            Ty::Bool => "true or false".into(),
            Ty::Choice(c) => format!("one of {}", quoted(c)),
            Ty::Warmup => "a request count (whole number >= 0) or a duration string".into(),
            Ty::Form(f) => format!(
                "{} {} table with a kind, one of {}",
                if f.name().starts_with('a') { "an" } else { "a" },
                f.name(),
                quoted(&f.forms().iter().map(|f| f.kind).collect::<Vec<_>>())
            ),
            Ty::List(t, n) => format!("an array of up to {n} values, each {}", t.describe()),
            Ty::Server => "a table of Redis config settings".into(),
            Ty::Patterns => "[[pattern]] tables".into(),
            Ty::Sweep => "a table of lists of values".into(),
        }
    }
}

/// `"a", "b", "c"`.
pub fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

const fn field(
    name: &'static str,
    ty: Ty,
    unit: &'static str,
    default: Option<&'static str>,
    meaning: &'static str,
    example: &'static str,
) -> Field {
    Field {
        name,
        ty,
        unit,
        default,
        meaning,
        example,
    }
}

const fn dur(min_us: u64) -> Ty {
    Ty::Duration { min_us }
}
const fn count(min: i64, max: i64) -> Ty {
    Ty::Count { min, max }
}
const fn number(min: f64, max: f64) -> Ty {
    Ty::Number {
        min,
        max,
        above_min: false,
    }
}
const fn above(min: f64, max: f64) -> Ty {
    Ty::Number {
        min,
        max,
        above_min: true,
    }
}
const FRACTION: Ty = number(0.0, 1.0);
const MS: u64 = 1000;

/// The top level of a workload file.
pub const TOP: &[Field] = &[
    field("name", Ty::Text, "", None, "Name of the experiment: outputs go to `results/<name>/`.", "\"sessions\""),
    field("duration", dur(MS), "duration", None, "Total simulated time, warm-up included.", "\"2h\""),
    field("warmup", Ty::Warmup, "requests or duration", Some("0 (none)"), "The first part of the run, left out of the metrics: a number of client requests (`100000`; cache fills do not count) or a simulated time (`\"30m\"`). A time must be shorter than `duration`.", "\"30m\""),
    field("seed", count(0, i64::MAX), "", Some("1"), "Seed of every random stream of the run: the same file and seed give byte-identical outputs.", "7"),
    field("server", Ty::Server, "", Some("Redis 7 defaults"), "Server settings, with Redis's own names and value syntax: `maxmemory` (`\"64mb\"`, `0` = no limit), `maxmemory-policy`, `maxmemory-samples`, `hz` (1 to 500), `active-expire-effort` (1 to 10), ... Unknown names are refused with the list of known ones.", "{ maxmemory = \"64mb\", maxmemory-policy = \"volatile-lru\" }"),
    field("pattern", Ty::Patterns, "", None, "The client patterns sharing the server, one `[[pattern]]` table each (at least one).", "[[pattern]]"),
    field("sweep", Ty::Sweep, "", Some("none"), "Lists of values `ttlsim sweep` runs the product of (see README, Sweeps); `ttlsim run` ignores it.", "{ maxmemory = [\"50%\", \"100%\"] }"),
];

const NAMESPACE: Field = field(
    "namespace",
    Ty::Name,
    "",
    None,
    "Key prefix (keys are `<namespace>:<suffix>`) and the prefix of the pattern's columns in the outputs. Namespaces must differ after mapping to `[a-z0-9_]`.",
    "\"session\"",
);
const KEY_BYTES: Field = field(
    "key_bytes",
    count(1, 1 << 20),
    "bytes",
    Some("namespace + 1 + 12 (sessions: + 32, tokens: + 43)"),
    "Length of a key name; at least the namespace, `:` and 8 characters.",
    "40",
);

const fn keys(name: &'static str, meaning: &'static str) -> Field {
    field(name, count(1, MAX_KEYS), "keys", None, meaning, "100000")
}
const fn form(
    name: &'static str,
    family: Family,
    unit: &'static str,
    meaning: &'static str,
    example: &'static str,
) -> Field {
    field(name, Ty::Form(family), unit, None, meaning, example)
}
const fn ttl(name: &'static str, default: Option<&'static str>, meaning: &'static str) -> Field {
    field(name, dur(MS), "duration", default, meaning, "\"30m\"")
}
const POP: Field = form(
    "popularity",
    Family::Popularity,
    "",
    "Which keys requests touch.",
    "{ kind = \"zipf\", s = 0.99 }",
);
const ARRIVAL: Field = form(
    "arrival",
    Family::Arrival,
    "per second",
    "When requests arrive.",
    "{ kind = \"poisson\", rate = 100.0 }",
);
const VALUE_SIZE: Field = form(
    "value_size",
    Family::Size,
    "bytes",
    "Size of the values written.",
    "{ kind = \"lognormal\", median = 800, sigma = 0.6 }",
);

/// The `[[pattern]]` kinds.
pub const PATTERNS: &[Form] = &[
    Form {
        kind: "cache-aside",
        meaning: "A read-through cache: GET; on a miss, fetch from the origin and SET the value with a TTL.",
        fields: &[
            NAMESPACE,
            KEY_BYTES,
            keys("keys", "Distinct keys."),
            POP,
            VALUE_SIZE,
            ARRIVAL,
            ttl("ttl", Some("none (no TTL)"), "TTL of each fill."),
            ttl("ttl_jitter", Some("none"), "A uniform random extra from 0 to `ttl_jitter` added to each TTL (needs `ttl`)."),
        ],
    },
    Form {
        kind: "sessions",
        meaning: "Logins (SET EX), requests that read the session (and refresh its TTL, by `expiry`), logouts (DEL). A request that finds no session logs the user in again.",
        fields: &[
            NAMESPACE,
            KEY_BYTES,
            form("logins", Family::Arrival, "per second", "When users log in.", "{ kind = \"poisson\", rate = 10.0 }"),
            ttl("ttl", None, "Session TTL, set at login (and on each request with sliding expiry)."),
            form("think_time", Family::Delay, "duration", "Time between a user's requests.", "{ kind = \"exponential\", mean = \"30s\" }"),
            field("requests", number(0.0, 1e6), "requests per visit", None, "Mean number of requests a user makes after logging in (geometric count; 0 = login only).", "8.0"),
            field("logout", FRACTION, "fraction of users", None, "Fraction of users who log out (DEL) after their last request; the others abandon the session and it expires.", "0.3"),
            field("expiry", Ty::Choice(&["sliding", "fixed", "sliding-capped"]), "", Some("\"sliding\""), "`sliding`: each request resets the TTL; `fixed`: the TTL runs from login and requests do not extend it; `sliding-capped`: sliding, but never past `max_lifetime` after login.", "\"fixed\""),
            field("max_lifetime", dur(MS), "duration", Some("none (needed by sliding-capped)"), "With `expiry = \"sliding-capped\"`: the longest a session lives after login.", "\"12h\""),
            field("refresh", Ty::Choice(&["expire", "getex"]), "", Some("\"expire\""), "How a sliding request refreshes the TTL: `expire` = GET then EXPIRE (two commands); `getex` = GETEX EX (one).", "\"getex\""),
            VALUE_SIZE,
        ],
    },
    Form {
        kind: "tokens",
        meaning: "One-time tokens (e-mail verification, password reset) created in campaigns with SET EX; some are redeemed later with GET then DEL.",
        fields: &[
            NAMESPACE,
            KEY_BYTES,
            form("campaigns", Family::Arrival, "tokens per second", "When tokens are created (usually `bursts`: one burst per campaign).", "{ kind = \"bursts\", start = \"1m\", every = \"15m\", count = 2000, spread = \"30s\" }"),
            ttl("ttl", None, "Token TTL."),
            field("redeem_fraction", FRACTION, "fraction of tokens", None, "Fraction of tokens that users try to redeem.", "0.3"),
            form("redeem_delay", Family::Delay, "duration", "Delay from creation to the redemption attempt.", "{ kind = \"lognormal\", median = \"2m\", sigma = 1.0 }"),
            VALUE_SIZE,
        ],
    },
    Form {
        kind: "rate-limit",
        meaning: "A fixed-window rate limiter: INCR a per-user counter, EXPIRE it on the first request of a window, deny above `limit`.",
        fields: &[
            NAMESPACE,
            KEY_BYTES,
            keys("users", "Distinct users."),
            POP,
            ARRIVAL,
            field("limit", count(1, i64::MAX), "requests per window", None, "Requests allowed per user per window.", "60"),
            ttl("window", None, "Window length (the counter's TTL)."),
        ],
    },
    Form {
        kind: "swr",
        meaning: "Stale-while-revalidate: a value key and a timestamp key per feed; a read is fresh, served stale (and refetched), or refetched.",
        fields: &[
            NAMESPACE,
            KEY_BYTES,
            keys("feeds", "Distinct feeds."),
            POP,
            ARRIVAL,
            ttl("revalidate", None, "Age below which a cached feed is fresh."),
            ttl("max_stale", None, "Age below which a stale feed may still be served (also the keys' TTL); at least `revalidate`."),
            VALUE_SIZE,
            field("background_refresh", Ty::Bool, "", Some("true"), "Refetch in the background after serving a stale feed.", "false"),
        ],
    },
    Form {
        kind: "locks",
        meaning: "Distributed locks: SET NX PX to acquire, DEL to release after the hold time.",
        fields: &[
            NAMESPACE,
            KEY_BYTES,
            keys("resources", "Distinct lockable resources."),
            POP,
            ARRIVAL,
            form("hold", Family::Delay, "duration", "How long a holder keeps the lock before DEL.", "{ kind = \"uniform\", min = \"50ms\", max = \"2s\" }"),
            ttl("ttl", None, "The lock's PX (a holder slower than this loses the lock)."),
            field("owner_bytes", count(1, MAX_BYTES), "bytes", Some("36 (a UUID)"), "Size of the owner token stored as the value.", "36"),
        ],
    },
    Form {
        kind: "persistent",
        meaning: "Keys without a TTL (profiles, settings): reads, writes, and occasional EXPIRE / PERSIST.",
        fields: &[
            NAMESPACE,
            KEY_BYTES,
            keys("keys", "Distinct keys."),
            POP,
            ARRIVAL,
            VALUE_SIZE,
            field("write_fraction", FRACTION, "fraction of requests", Some("0"), "Requests that SET (no TTL); the rest read, and a missing key is reloaded with SET.", "0.05"),
            field("expire_fraction", FRACTION, "fraction of requests", Some("0"), "Requests that EXPIRE the key by `expire_ttl` (needs `expire_ttl`).", "0.01"),
            field("persist_fraction", FRACTION, "fraction of requests", Some("0"), "Requests that PERSIST the key. The three fractions sum to at most 1.", "0.01"),
            ttl("expire_ttl", Some("none"), "TTL given by EXPIRE requests."),
        ],
    },
];

/// Forms of `popularity`.
pub const POPULARITY: &[Form] = &[
    Form { kind: "uniform", meaning: "Every key equally likely.", fields: &[] },
    Form {
        kind: "zipf",
        meaning: "Zipf: the key of rank r is drawn with probability proportional to 1/r^s; key 0 is the most popular.",
        fields: &[field("s", number(0.0, 10.0), "", None, "Exponent: 0 = uniform, about 1 = typical web caches.", "0.99")],
    },
    Form {
        kind: "scrambled-zipf",
        meaning: "Zipf with the popular keys spread over the key space (YCSB's scrambled Zipfian).",
        fields: &[field("s", number(0.0, 10.0), "", None, "Exponent.", "0.8")],
    },
    Form {
        kind: "hotspot",
        meaning: "A hot set: `hot_share` of requests go to the first `hot_fraction` of keys, the rest uniformly to the others.",
        fields: &[
            field("hot_fraction", FRACTION, "fraction of keys", None, "Fraction of keys that are hot.", "0.1"),
            field("hot_share", FRACTION, "fraction of requests", None, "Fraction of requests that go to the hot keys.", "0.9"),
        ],
    },
];

const SIZE_ONE: Ty = count(1, MAX_BYTES);
const WEIGHT: Ty = number(0.0, 1e12);

/// Forms of a size (`value_size`).
pub const SIZES: &[Form] = &[
    Form {
        kind: "fixed",
        meaning: "Always the same size.",
        fields: &[field("bytes", SIZE_ONE, "bytes", None, "The size.", "100")],
    },
    Form {
        kind: "uniform",
        meaning: "Uniform from `min` to `max` inclusive.",
        fields: &[
            field("min", SIZE_ONE, "bytes", None, "Smallest size.", "12"),
            field(
                "max",
                SIZE_ONE,
                "bytes",
                None,
                "Largest size (at least `min`).",
                "40",
            ),
        ],
    },
    Form {
        kind: "lognormal",
        meaning: "Lognormal with the given median and shape, rounded and clamped to 1..`max`.",
        fields: &[
            field(
                "median",
                above(0.0, MAX_BYTES as f64),
                "bytes",
                None,
                "Median size.",
                "400",
            ),
            field(
                "sigma",
                number(0.0, 10.0),
                "",
                None,
                "Shape: the standard deviation of ln(size).",
                "0.5",
            ),
            field(
                "max",
                SIZE_ONE,
                "bytes",
                Some("1048576 (1 MiB)"),
                "Upper clamp.",
                "65536",
            ),
        ],
    },
    Form {
        kind: "table",
        meaning: "An empirical table: `sizes[i]` with probability proportional to `weights[i]`.",
        fields: &[
            field(
                "sizes",
                Ty::List(&SIZE_ONE, 10_000),
                "bytes",
                None,
                "The sizes.",
                "[100, 1000, 10000]",
            ),
            field(
                "weights",
                Ty::List(&WEIGHT, 10_000),
                "",
                None,
                "Relative weights, as many as sizes, with a positive sum.",
                "[0.7, 0.25, 0.05]",
            ),
        ],
    },
];

const DELAY: Ty = dur(0);

/// Forms of a delay (`think_time`, `redeem_delay`, `hold`).
pub const DELAYS: &[Form] = &[
    Form {
        kind: "fixed",
        meaning: "Always the same delay.",
        fields: &[field(
            "value",
            DELAY,
            "duration",
            None,
            "The delay.",
            "\"5s\"",
        )],
    },
    Form {
        kind: "uniform",
        meaning: "Uniform from `min` to `max`.",
        fields: &[
            field("min", DELAY, "duration", None, "Shortest.", "\"50ms\""),
            field(
                "max",
                DELAY,
                "duration",
                None,
                "Longest (at least `min`).",
                "\"2s\"",
            ),
        ],
    },
    Form {
        kind: "exponential",
        meaning: "Exponential with the given mean (memoryless think times).",
        fields: &[field(
            "mean",
            dur(1),
            "duration",
            None,
            "Mean delay.",
            "\"30s\"",
        )],
    },
    Form {
        kind: "lognormal",
        meaning: "Lognormal with the given median and shape.",
        fields: &[
            field(
                "median",
                dur(1),
                "duration",
                None,
                "Median delay.",
                "\"2m\"",
            ),
            field(
                "sigma",
                number(0.0, 10.0),
                "",
                None,
                "Shape: the standard deviation of ln(delay).",
                "1.0",
            ),
        ],
    },
];

const RATE: Ty = above(0.0, 1e7);

/// Forms of an arrival process (`arrival`, `logins`, `campaigns`).
pub const ARRIVALS: &[Form] = &[
    Form {
        kind: "constant",
        meaning: "Evenly spaced arrivals.",
        fields: &[field("rate", RATE, "per second", None, "Arrivals per second.", "50.0")],
    },
    Form {
        kind: "poisson",
        meaning: "A Poisson process (exponential gaps).",
        fields: &[field("rate", RATE, "per second", None, "Mean arrivals per second.", "50.0")],
    },
    Form {
        kind: "bursts",
        meaning: "Bursts of `count` arrivals spread evenly over `spread`, at the times in `at`, or at `start` and then every `every` (give `at` or `every`, not both).",
        fields: &[
            field("at", Ty::List(&DELAY, 100_000), "duration", Some("[]"), "Burst start times from the start of the run.", "[\"1m\", \"30m\"]"),
            field("start", DELAY, "duration", Some("\"0s\""), "First burst, with `every`.", "\"1m\""),
            field("every", dur(MS), "duration", Some("none"), "Period of repeated bursts.", "\"15m\""),
            field("count", count(1, 1_000_000_000), "arrivals per burst", None, "Arrivals in one burst.", "2000"),
            field("spread", DELAY, "duration", Some("\"0s\""), "How long one burst lasts.", "\"30s\""),
        ],
    },
    Form {
        kind: "daily",
        meaning: "A Poisson process whose rate follows a daily cycle: rate × (1 + amplitude × cos(2π (t − peak) / period)).",
        fields: &[
            field("rate", RATE, "per second", None, "Mean arrivals per second.", "50.0"),
            field("amplitude", FRACTION, "", None, "Relative swing around the mean.", "0.5"),
            field("peak", DELAY, "duration", Some("\"0s\""), "Time of the peak within the period.", "\"14h\""),
            field("period", dur(MS), "duration", Some("\"24h\""), "Length of the cycle.", "\"24h\""),
        ],
    },
];

/// The pattern kind named `kind`.
pub fn pattern(kind: &str) -> Option<&'static Form> {
    PATTERNS.iter().find(|f| f.kind == kind)
}

fn table(out: &mut String, fields: &[Field]) {
    out.push_str("| field | meaning | unit | default | valid values | example |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for f in fields {
        let esc = |s: &str| s.replace('|', "\\|");
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | `{}` |\n",
            f.name,
            esc(f.meaning),
            if f.unit.is_empty() { "–" } else { f.unit },
            f.default.map_or("required".to_string(), esc),
            esc(&f.ty.describe()),
            esc(f.example),
        ));
    }
}

/// The generated part of `docs/workloads.md`: one table per top level,
/// pattern kind and form, between the markers.
pub fn markdown_tables() -> String {
    let mut out = String::new();
    out.push_str("### Top level\n\n");
    table(&mut out, TOP);
    for p in PATTERNS {
        out.push_str(&format!(
            "\n### Pattern `kind = \"{}\"`\n\n{}\n\n",
            p.kind, p.meaning
        ));
        table(&mut out, p.fields);
    }
    for fam in Family::ALL {
        for f in fam.forms() {
            out.push_str(&format!(
                "\n### {} `kind = \"{}\"`\n\n{}\n\n",
                fam.name(),
                f.kind,
                f.meaning
            ));
            if f.fields.is_empty() {
                out.push_str("No fields besides `kind`.\n");
            } else {
                table(&mut out, f.fields);
            }
        }
    }
    out
}
