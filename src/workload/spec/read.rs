//! Reading a workload file: one parse with spans (`toml_edit`), every value
//! checked against the field registry ([`super::schema`]) where it stands,
//! then deserialized into the pattern structs.
//!
//! Every error reads `file:line:col: path: expected …, such as …; got …`,
//! with the position of the offending value (inside inline tables and
//! arrays too) and the field's path (`pattern[2].logins.kind`, 1-based
//! pattern numbers).

use std::collections::HashMap;
use std::ops::Range;

use toml_edit::{ImDocument, Item, Value};

use super::schema::{self, Family, Field, Form, Ty, MAX_DUR_US};
use super::{SpecError, Warmup};
use crate::store::config::{self, ConfigError};
use crate::store::Config;
use crate::units::{fmt_f64, Dur};

/// What the checks need to know of a value once it is valid.
#[derive(Clone, Copy, Debug)]
enum Got {
    Int(i64),
    Num(f64),
    Dur(u64),
    Other,
}

impl Got {
    fn num(self) -> f64 {
        match self {
            Got::Int(i) => i as f64,
            Got::Num(f) => f,
            Got::Dur(d) => d as f64,
            Got::Other => 0.0,
        }
    }
}

/// The valid fields of one table: name, value, span of the value.
#[derive(Default)]
struct Seen {
    vals: Vec<(&'static str, Got, Range<usize>)>,
    text: Vec<(&'static str, String)>,
}

impl Seen {
    fn get(&self, name: &str) -> Option<(Got, Range<usize>)> {
        self.vals
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, g, s)| (*g, s.clone()))
    }
    fn text(&self, name: &str) -> Option<&str> {
        self.text
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s.as_str())
    }
}

/// The settings read by the walk that are not serde structs.
pub(super) struct Checked {
    pub server: Config,
    pub warmup: Warmup,
}

/// A reader over one file's text.
pub(super) struct Reader<'a> {
    src: &'a str,
    file: &'a str,
    /// Byte offsets of line starts, for positions without rescans.
    lines: Vec<usize>,
}

impl<'a> Reader<'a> {
    pub fn new(src: &'a str, file: &'a str) -> Self {
        let mut lines = vec![0];
        lines.extend(memchr::memchr_iter(b'\n', src.as_bytes()).map(|i| i + 1));
        Reader { src, file, lines }
    }

    /// An error at byte `off`: `path: msg`.
    pub fn err_at(&self, off: usize, path: &str, msg: impl std::fmt::Display) -> SpecError {
        let off = off.min(self.src.len());
        let line = self.lines.partition_point(|&s| s <= off);
        let start = self.lines[line - 1];
        let col = self.src[start..off].chars().count() + 1;
        SpecError {
            file: self.file.to_string(),
            line,
            col,
            msg: if path.is_empty() {
                msg.to_string()
            } else {
                format!("{path}: {msg}")
            },
        }
    }

    fn err(
        &self,
        span: &Option<Range<usize>>,
        path: &str,
        msg: impl std::fmt::Display,
    ) -> SpecError {
        self.err_at(span.as_ref().map_or(0, |s| s.start), path, msg)
    }

    /// The value as written, shortened.
    fn shown(&self, span: &Option<Range<usize>>) -> String {
        let Some(s) = span else {
            return "a table".into();
        };
        let t = self.src.get(s.clone()).unwrap_or("").trim();
        let t = t.lines().next().unwrap_or("");
        if t.chars().count() > 40 {
            format!("{}…", t.chars().take(40).collect::<String>())
        } else {
            t.to_string()
        }
    }

    fn wrong(&self, span: &Option<Range<usize>>, path: &str, ty: &Ty, example: &str) -> SpecError {
        self.expected(span, path, &ty.describe(), example)
    }

    fn expected(
        &self,
        span: &Option<Range<usize>>,
        path: &str,
        what: &str,
        example: &str,
    ) -> SpecError {
        self.err(
            span,
            path,
            format!(
                "expected {what}, such as {example}; got {}",
                self.shown(span)
            ),
        )
    }

    /// Parses and checks the whole file; returns the parsed document for
    /// deserialization and the settings read here.
    pub fn read(&self) -> Result<(ImDocument<&'a str>, Checked), SpecError> {
        let doc = ImDocument::parse(self.src).map_err(|e| {
            let off = e.span().map_or(0, |s| s.start);
            let msg = e.message().trim().replace('\n', ": ");
            let msg = if msg.contains("too large") || msg.contains("too small") {
                format!("{msg} (whole numbers must lie within ±{})", i64::MAX)
            } else {
                msg
            };
            self.err_at(off, "", format!("not valid TOML: {msg}"))
        })?;
        let root = doc.as_table();
        for (k, _) in root.iter() {
            if !schema::TOP.iter().any(|f| f.name == k) {
                let span = root.key(k).and_then(|k| k.span());
                return Err(self.unknown(&span, "", k, schema::TOP));
            }
        }
        let mut server = Config::default();
        let mut warmup = Warmup::None;
        let mut duration = 0u64;
        for f in schema::TOP {
            let Some(item) = root.get(f.name) else {
                if f.default.is_none() {
                    let msg = match f.ty {
                        Ty::Patterns => {
                            "no [[pattern]] table: a workload needs at least one client pattern"
                                .to_string()
                        }
                        _ => format!(
                            "missing; expected {}, such as {} = {}",
                            f.ty.describe(),
                            f.name,
                            f.example
                        ),
                    };
                    return Err(self.err_at(
                        0,
                        if matches!(f.ty, Ty::Patterns) {
                            ""
                        } else {
                            f.name
                        },
                        msg,
                    ));
                }
                continue;
            };
            match f.ty {
                Ty::Server => server = self.server(item)?,
                Ty::Patterns => self.patterns(item)?,
                Ty::Sweep => {}
                _ => {
                    let got = self.value(f.name, item, f)?;
                    match (f.name, got) {
                        ("duration", Got::Dur(d)) => duration = d,
                        ("warmup", Got::Int(n)) if n > 0 => warmup = Warmup::Requests(n as u64),
                        ("warmup", Got::Dur(d)) if d > 0 => {
                            warmup = Warmup::Time(Dur(d));
                        }
                        _ => {}
                    }
                }
            }
        }
        if let Warmup::Time(w) = warmup {
            if w.0 >= duration {
                return Err(self.err(
                    &root.get("warmup").and_then(Item::span),
                    "warmup",
                    format!(
                        "expected a time shorter than duration ({}); got {w}",
                        Dur(duration)
                    ),
                ));
            }
        }
        Ok((doc, Checked { server, warmup }))
    }

    fn unknown(
        &self,
        span: &Option<Range<usize>>,
        path: &str,
        key: &str,
        fields: &[Field],
    ) -> SpecError {
        let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
        let near = names
            .iter()
            .filter(|n| edit_distance(n, key) <= 2)
            .min_by_key(|n| edit_distance(n, key))
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        let path = join(path, key);
        self.err(
            span,
            &path,
            format!("unknown field{near}; expected one of {}", names.join(", ")),
        )
    }

    fn server(&self, item: &Item) -> Result<Config, SpecError> {
        let Some(t) = item.as_table_like() else {
            return Err(self.wrong(
                &item.span(),
                "server",
                &Ty::Server,
                "[server] with maxmemory = \"64mb\"",
            ));
        };
        let mut c = Config::default();
        for (name, v) in t.iter() {
            let path = format!("server.{name}");
            let span = v.span();
            let text = match v.as_value() {
                Some(Value::Integer(i)) => i.value().to_string(),
                Some(Value::String(s)) => s.value().clone(),
                _ => {
                    return Err(self.err(
                        &span,
                        &path,
                        format!(
                            "expected a whole number or a string in Redis's syntax, such as 10 or \"64mb\"; got {}",
                            self.shown(&span)
                        ),
                    ))
                }
            };
            if let Err(e) = c.set_strict(name, &text) {
                return Err(match e {
                    ConfigError::UnknownName => self.err(
                        &t.key(name).and_then(|k| k.span()),
                        &path,
                        format!(
                            "unknown setting; expected one of {}",
                            config::NAMES.join(", ")
                        ),
                    ),
                    ConfigError::BadValue(reason) => {
                        self.err(&span, &path, format!("{reason}; got {}", self.shown(&span)))
                    }
                });
            }
        }
        Ok(c)
    }

    fn patterns(&self, item: &Item) -> Result<(), SpecError> {
        let example = "[[pattern]] with kind = \"cache-aside\"";
        let items: Vec<(Option<Range<usize>>, &dyn toml_edit::TableLike)> = match item {
            Item::ArrayOfTables(a) => a
                .iter()
                .map(|t| (t.span(), t as &dyn toml_edit::TableLike))
                .collect(),
            Item::Value(Value::Array(a)) => {
                let mut out = Vec::new();
                for v in a.iter() {
                    match v {
                        Value::InlineTable(t) => {
                            out.push((t.span(), t as &dyn toml_edit::TableLike))
                        }
                        _ => return Err(self.wrong(&v.span(), "pattern", &Ty::Patterns, example)),
                    }
                }
                out
            }
            _ => return Err(self.wrong(&item.span(), "pattern", &Ty::Patterns, example)),
        };
        if items.is_empty() {
            return Err(self.err(
                &item.span(),
                "",
                "no [[pattern]] table: a workload needs at least one client pattern",
            ));
        }
        let mut names: HashMap<String, usize> = HashMap::new();
        let kinds: Vec<&str> = schema::PATTERNS.iter().map(|f| f.kind).collect();
        for (i, (span, t)) in items.into_iter().enumerate() {
            let path = format!("pattern[{}]", i + 1);
            let (form, seen) =
                self.kinded(&path, &span, t, schema::PATTERNS, &kinds, "\"cache-aside\"")?;
            self.pattern_rules(&path, form, &seen)?;
            let ns = seen.text("namespace").unwrap_or("");
            if let Some(first) = names.insert(super::sanitize(ns), i + 1) {
                let (_, s) = seen.get("namespace").expect("namespace is required");
                return Err(self.err(
                    &Some(s),
                    &format!("{path}.namespace"),
                    format!("\"{ns}\" is already used by pattern[{first}] (namespaces must differ after mapping to [a-z0-9_])"),
                ));
            }
        }
        Ok(())
    }

    /// A table with a `kind`: checks the kind and then every field.
    fn kinded(
        &self,
        path: &str,
        span: &Option<Range<usize>>,
        t: &dyn toml_edit::TableLike,
        forms: &'static [Form],
        kinds: &[&str],
        example: &str,
    ) -> Result<(&'static Form, Seen), SpecError> {
        let kpath = join(path, "kind");
        let choice = format!("one of {}", schema::quoted(kinds));
        let Some(k) = t.get("kind") else {
            return Err(self.err(
                span,
                &kpath,
                format!("missing; expected {choice}, such as kind = {example}"),
            ));
        };
        let form = k
            .as_str()
            .and_then(|s| forms.iter().find(|f| f.kind == s))
            .ok_or_else(|| self.expected(&k.span(), &kpath, &choice, example))?;
        let mut seen = Seen::default();
        for (key, _) in t.iter() {
            if key != "kind" && !form.fields.iter().any(|f| f.name == key) {
                return Err(self.unknown(
                    &t.key(key).and_then(|k| k.span()),
                    path,
                    key,
                    form.fields,
                ));
            }
        }
        for f in form.fields {
            let fpath = join(path, f.name);
            match t.get(f.name) {
                None if f.default.is_none() => {
                    return Err(self.err(
                        span,
                        &fpath,
                        format!(
                            "missing in this {} table; expected {}, such as {} = {}",
                            form.kind,
                            f.ty.describe(),
                            f.name,
                            f.example
                        ),
                    ))
                }
                None => {}
                Some(item) => {
                    let got = self.value(&fpath, item, f)?;
                    if let Some(s) = item.as_str() {
                        seen.text.push((f.name, s.to_string()));
                    }
                    if let Some(v) = item.as_array() {
                        seen.text.push((f.name, v.len().to_string()));
                        if f.name == "weights" {
                            let sum: f64 = v
                                .iter()
                                .filter_map(|x| x.as_float().or(x.as_integer().map(|i| i as f64)))
                                .sum();
                            seen.vals.push((
                                "weights_sum",
                                Got::Num(sum),
                                item.span().unwrap_or(0..0),
                            ));
                        }
                    }
                    seen.vals.push((f.name, got, item.span().unwrap_or(0..0)));
                }
            }
        }
        Ok((form, seen))
    }

    /// Checks one value against its field.
    fn value(&self, path: &str, item: &Item, f: &Field) -> Result<Got, SpecError> {
        self.typed(path, item, &f.ty, f.example)
    }

    fn typed(&self, path: &str, item: &Item, ty: &Ty, example: &str) -> Result<Got, SpecError> {
        let span = item.span();
        let bad = || self.wrong(&span, path, ty, example);
        let v = item.as_value();
        match *ty {
            Ty::Text => v
                .and_then(Value::as_str)
                .map(|_| Got::Other)
                .ok_or_else(bad),
            Ty::Name => {
                let s = v.and_then(Value::as_str).ok_or_else(bad)?;
                if s.is_empty()
                    || s.len() > 200
                    || !s
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && b != b',' && b != b'"')
                {
                    return Err(bad());
                }
                Ok(Got::Other)
            }
            Ty::Count { min, max } => match v.and_then(Value::as_integer) {
                Some(i) if (min..=max).contains(&i) => Ok(Got::Int(i)),
                _ => Err(bad()),
            },
            Ty::Number {
                min,
                max,
                above_min,
            } => {
                let x = v
                    .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
                    .ok_or_else(bad)?;
                let low_ok = if above_min { x > min } else { x >= min };
                if x.is_finite() && low_ok && x <= max {
                    Ok(Got::Num(x))
                } else {
                    Err(bad())
                }
            }
            Ty::Duration { min_us } => {
                let s = v.and_then(Value::as_str).ok_or_else(bad)?;
                match Dur::parse(s) {
                    Ok(d) if d.0 >= min_us && d.0 <= MAX_DUR_US => Ok(Got::Dur(d.0)),
                    _ => Err(bad()),
                }
            }
            Ty::Bool => v
                .and_then(Value::as_bool)
                .map(|_| Got::Other)
                .ok_or_else(bad),
            Ty::Choice(c) => match v.and_then(Value::as_str) {
                Some(s) if c.contains(&s) => Ok(Got::Other),
                _ => Err(bad()),
            },
            Ty::Warmup => match v {
                Some(Value::Integer(i)) if *i.value() >= 0 => Ok(Got::Int(*i.value())),
                Some(Value::String(s)) => match Dur::parse(s.value()) {
                    Ok(d) if d.0 <= MAX_DUR_US => Ok(Got::Dur(d.0)),
                    _ => Err(bad()),
                },
                _ => Err(bad()),
            },
            Ty::Form(fam) => {
                let t = item
                    .as_table_like()
                    .ok_or_else(|| self.wrong(&span, path, ty, fam.example()))?;
                let kinds: Vec<&str> = fam.forms().iter().map(|f| f.kind).collect();
                let ex = format!("\"{}\"", kinds[kinds.len().min(2) - 1]);
                let (form, seen) = self.kinded(path, &span, t, fam.forms(), &kinds, &ex)?;
                self.form_rules(path, fam, form, &seen)?;
                Ok(Got::Other)
            }
            Ty::List(each, max_len) => {
                let a = v.and_then(Value::as_array).ok_or_else(bad)?;
                if a.len() > max_len {
                    return Err(bad());
                }
                // The example of one element: the first of the list's.
                let one = example
                    .trim_start_matches('[')
                    .split([',', ']'])
                    .next()
                    .unwrap_or(example)
                    .trim();
                for (i, x) in a.iter().enumerate() {
                    // A cloned value keeps its span.
                    let item = Item::Value(x.clone());
                    self.typed(&format!("{path}[{}]", i + 1), &item, each, one)?;
                }
                Ok(Got::Other)
            }
            Ty::Server | Ty::Patterns | Ty::Sweep => Ok(Got::Other),
        }
    }

    fn rule(
        &self,
        ok: bool,
        path: &str,
        field: &str,
        seen: &Seen,
        msg: String,
    ) -> Result<(), SpecError> {
        if ok {
            return Ok(());
        }
        let span = seen.get(field).map(|(_, s)| s);
        Err(self.err(&span, &join(path, field), msg))
    }

    /// Rules across the fields of a distribution or arrival form.
    fn form_rules(
        &self,
        path: &str,
        fam: Family,
        form: &Form,
        seen: &Seen,
    ) -> Result<(), SpecError> {
        let n = |k: &str| seen.get(k).map(|(g, _)| g.num());
        match (fam, form.kind) {
            (Family::Size | Family::Delay, "uniform") => {
                let (lo, hi) = (n("min").unwrap_or(0.0), n("max").unwrap_or(0.0));
                let shown = |x: f64| match fam {
                    Family::Delay => Dur(x as u64).to_string(),
                    _ => fmt_f64(x),
                };
                self.rule(
                    hi >= lo,
                    path,
                    "max",
                    seen,
                    format!("expected at least min ({}); got {}", shown(lo), shown(hi)),
                )
            }
            (Family::Size, "table") => {
                let len = |k: &str| seen.text(k).unwrap_or("0").to_string();
                self.rule(
                    len("sizes") == len("weights"),
                    path,
                    "weights",
                    seen,
                    format!(
                        "expected as many weights as sizes ({}); got {}",
                        len("sizes"),
                        len("weights")
                    ),
                )?;
                self.rule(
                    len("sizes") != "0",
                    path,
                    "sizes",
                    seen,
                    "expected at least one size, such as [100, 1000]; got []".into(),
                )?;
                self.rule(
                    n("weights_sum").unwrap_or(0.0) > 0.0,
                    path,
                    "weights",
                    seen,
                    "expected weights with a positive sum, such as [0.7, 0.3]; got all zero".into(),
                )
            }
            (Family::Arrival, "bursts") => {
                let has_at = seen.text("at").is_some_and(|l| l != "0");
                let has_every = seen.get("every").is_some();
                let field = if has_at { "every" } else { "at" };
                if has_at == has_every {
                    let span = seen.get(field).map(|(_, s)| s);
                    return Err(self.err(
                        &span.or_else(|| seen.get("count").map(|(_, s)| s)),
                        path,
                        format!(
                            "expected either at = [times] or every = period (with start), such as every = \"15m\"; got {}",
                            if has_at { "both" } else { "neither" }
                        ),
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Rules across the fields of a pattern.
    fn pattern_rules(&self, path: &str, form: &Form, seen: &Seen) -> Result<(), SpecError> {
        let n = |k: &str| seen.get(k).map(|(g, _)| g.num());
        let ns = seen.text("namespace").unwrap_or("");
        let min_key = ns.len() as f64 + 9.0;
        self.rule(
            n("key_bytes").is_none_or(|k| k >= min_key),
            path,
            "key_bytes",
            seen,
            format!(
                "expected at least {min_key} (the namespace, `:` and 8 characters); got {}",
                fmt_f64(n("key_bytes").unwrap_or(0.0))
            ),
        )?;
        match form.kind {
            "cache-aside" => self.rule(
                seen.get("ttl_jitter").is_none() || seen.get("ttl").is_some(),
                path,
                "ttl_jitter",
                seen,
                "expected only with a ttl, such as ttl = \"5m\"; got a ttl_jitter without ttl"
                    .into(),
            ),
            "sessions" => {
                let capped = seen.text("expiry") == Some("sliding-capped");
                let has_max = seen.get("max_lifetime").is_some();
                if capped && !has_max {
                    return self.rule(false, path, "expiry", seen, "expected max_lifetime with \"sliding-capped\", such as max_lifetime = \"12h\"; got no max_lifetime".into());
                }
                self.rule(
                    capped || !has_max,
                    path,
                    "max_lifetime",
                    seen,
                    "expected only with expiry = \"sliding-capped\"; got a max_lifetime with another expiry".into(),
                )
            }
            "swr" => {
                let (r, m) = (
                    n("revalidate").unwrap_or(0.0),
                    n("max_stale").unwrap_or(0.0),
                );
                self.rule(
                    m >= r,
                    path,
                    "max_stale",
                    seen,
                    format!(
                        "expected at least revalidate ({}); got {}",
                        Dur(r as u64),
                        Dur(m as u64)
                    ),
                )
            }
            "persistent" => {
                let f = |k| n(k).unwrap_or(0.0);
                let sum = f("write_fraction") + f("expire_fraction") + f("persist_fraction");
                let last = ["persist_fraction", "expire_fraction", "write_fraction"]
                    .into_iter()
                    .find(|k| seen.get(k).is_some())
                    .unwrap_or("write_fraction");
                self.rule(
                    sum <= 1.0 + 1e-9,
                    path,
                    last,
                    seen,
                    format!(
                        "expected write_fraction + expire_fraction + persist_fraction <= 1; got {}",
                        fmt_f64(sum)
                    ),
                )?;
                self.rule(
                    f("expire_fraction") == 0.0 || seen.get("expire_ttl").is_some(),
                    path,
                    "expire_fraction",
                    seen,
                    "expected an expire_ttl with expire_fraction > 0, such as expire_ttl = \"1h\"; got no expire_ttl".into(),
                )
            }
            _ => Ok(()),
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
