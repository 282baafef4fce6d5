//! Objectives and constraints in `runs.csv`'s names: `cache.hit_ratio>=0.9`,
//! `session.logged_out_early==0`, `stale_memory_peak<=10%` (of maxmemory).
//!
//! Every harm outcome (a pattern outcome whose description says "harm", and
//! `oom_rejections`) is a constraint `==0` by default ([`Catalog::harms`]); `--allow
//! NAME` drops one, and a `--require` on the same column replaces it.
//! [`Catalog`] knows the columns a workload writes, so a bad name or an
//! impossible bound is refused before anything runs.

use anyhow::{bail, Result};

use crate::metrics::schema::{self, Column, Unit, METRICS, NS_METRICS};
use crate::units::fmt_f64;
use crate::workload::patterns::OUTCOMES;
use crate::workload::spec::sanitize;
use crate::workload::Workload;

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `>`
    Gt,
    /// `<`
    Lt,
}

impl Cmp {
    /// As written.
    pub fn text(self) -> &'static str {
        match self {
            Cmp::Ge => ">=",
            Cmp::Le => "<=",
            Cmp::Eq => "==",
            Cmp::Gt => ">",
            Cmp::Lt => "<",
        }
    }

    fn holds(self, v: f64, x: f64) -> bool {
        match self {
            Cmp::Ge => v >= x,
            Cmp::Le => v <= x,
            Cmp::Eq => (v - x).abs() <= 1e-9 * x.abs().max(1.0),
            Cmp::Gt => v > x,
            Cmp::Lt => v < x,
        }
    }
}

/// Where an objective came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `--target`: what the memory is for (drawn in mrc.png).
    Target,
    /// `--require`.
    Require,
    /// A harm outcome, `==0` unless allowed.
    Harm,
}

/// One objective or constraint on a `runs.csv` column.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// As the user wrote it (`cache.hit_ratio>=0.9`), or `ns.outcome==0` for a default.
    pub text: String,
    /// The `runs.csv` column (`cache_hit_ratio`).
    pub column: String,
    /// The namespace (`None`: a whole-run metric).
    pub namespace: Option<String>,
    /// The comparison.
    pub cmp: Cmp,
    /// The bound (for a percentage, the fraction of maxmemory).
    pub bound: f64,
    /// The bound is a fraction of maxmemory (`10%`).
    pub of_maxmemory: bool,
    /// The column's unit.
    pub unit: Unit,
    /// Where it came from.
    pub origin: Origin,
}

impl Objective {
    /// Whether a run's value meets it (a missing value, e.g. a hit ratio
    /// with no reads, does not).
    pub fn met(&self, value: Option<f64>, maxmemory: u64) -> bool {
        let Some(v) = value else { return false };
        let x = if self.of_maxmemory {
            self.bound * maxmemory as f64
        } else {
            self.bound
        };
        self.cmp.holds(v, x)
    }

    /// Whether a larger value is better (hit ratios), as opposed to smaller
    /// (harm counts, memory).
    pub fn higher_is_better(&self) -> bool {
        matches!(self.cmp, Cmp::Ge | Cmp::Gt)
    }
}

/// The columns a workload (or a trace replay) writes, with their units.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// Namespaces (column prefixes) and the pattern kind of each (`None`: a
    /// trace's namespace or an swr timestamp namespace).
    pub namespaces: Vec<(String, Option<&'static str>)>,
}

impl Catalog {
    /// The columns of a generated workload.
    pub fn of_workload(w: &Workload) -> Self {
        let mut namespaces = Vec::new();
        for p in &w.patterns {
            namespaces.push((sanitize(p.namespace()), Some(p.kind())));
            if let crate::workload::PatternSpec::Swr(s) = p {
                namespaces.push((sanitize(&format!("{}:ts", s.namespace)), None));
            }
        }
        Catalog { namespaces }
    }

    /// The columns of a replay whose namespaces are `names` (column prefixes).
    pub fn of_trace(names: &[String]) -> Self {
        Catalog {
            namespaces: names.iter().map(|n| (n.clone(), None)).collect(),
        }
    }

    fn outcomes(kind: Option<&str>) -> &'static [Column] {
        kind.and_then(|k| OUTCOMES.iter().find(|(n, _)| *n == k).map(|(_, o)| *o))
            .unwrap_or(&[])
    }

    /// The metrics of namespace `ns`: per-namespace metrics and its
    /// pattern's outcomes.
    pub fn ns_metrics(&self, ns: &str) -> Option<Vec<Column>> {
        let kind = self.namespaces.iter().find(|(n, _)| n == ns)?.1;
        Some(
            NS_METRICS
                .iter()
                .map(|c| c.col)
                .chain(Self::outcomes(kind).iter().copied())
                .collect(),
        )
    }

    /// The default harm constraints: `oom_rejections==0` and every harm
    /// outcome of every namespace `==0`.
    pub fn harms(&self) -> Vec<Objective> {
        let mut v = vec![Objective {
            text: "oom_rejections==0".into(),
            column: "oom_rejections".into(),
            namespace: None,
            cmp: Cmp::Eq,
            bound: 0.0,
            of_maxmemory: false,
            unit: Unit::Count,
            origin: Origin::Harm,
        }];
        for (ns, kind) in &self.namespaces {
            for c in Self::outcomes(*kind).iter().filter(|c| is_harm(c)) {
                v.push(Objective {
                    text: format!("{ns}.{}==0", c.name),
                    column: format!("{ns}_{}", c.name),
                    namespace: Some(ns.clone()),
                    cmp: Cmp::Eq,
                    bound: 0.0,
                    of_maxmemory: false,
                    unit: c.unit,
                    origin: Origin::Harm,
                });
            }
        }
        v
    }

    /// Parses `[ns.]metric OP value[%]`, checking the name and the bound.
    pub fn parse(&self, text: &str, origin: Origin) -> Result<Objective> {
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let ops = [
            (">=", Cmp::Ge),
            ("<=", Cmp::Le),
            ("==", Cmp::Eq),
            (">", Cmp::Gt),
            ("<", Cmp::Lt),
            ("=", Cmp::Eq),
        ];
        let Some((pos, op, cmp)) = ops
            .iter()
            .filter_map(|(s, c)| t.find(s).map(|p| (p, *s, *c)))
            .min_by_key(|(p, s, _)| (*p, usize::MAX - s.len()))
        else {
            bail!("`{text}`: expected NAME OP VALUE, e.g. `cache.hit_ratio>=0.9` (OP: >=, <=, ==, >, <)");
        };
        let (name, value) = (&t[..pos], &t[pos + op.len()..]);
        let (namespace, metric) = match name.split_once('.') {
            Some((ns, m)) => (Some(sanitize(ns)), m.to_string()),
            None => (None, name.to_string()),
        };
        let col = match &namespace {
            Some(ns) => {
                let Some(metrics) = self.ns_metrics(ns) else {
                    bail!(
                        "`{text}`: no namespace `{ns}`; the workload has: {}",
                        self.namespaces
                            .iter()
                            .map(|n| n.0.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                };
                let Some(c) = metrics.iter().find(|c| c.name == metric) else {
                    bail!(
                        "`{text}`: namespace `{ns}` has no metric `{metric}`; it has: {}",
                        metrics
                            .iter()
                            .map(|c| c.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                };
                *c
            }
            None => {
                let Some(c) = METRICS.iter().map(|c| c.col).find(|c| c.name == metric) else {
                    let with_ns: Vec<_> = self
                        .namespaces
                        .iter()
                        .map(|n| format!("{}.", n.0))
                        .collect();
                    bail!(
                        "`{text}`: no whole-run metric `{metric}`; they are: {}; per namespace, prefix one of: {}",
                        METRICS.iter().map(|c| c.col.name).collect::<Vec<_>>().join(", "),
                        with_ns.join(" ")
                    );
                };
                c
            }
        };
        if col.unit == Unit::Text {
            bail!("`{text}`: `{metric}` is text, not a figure");
        }
        let (num, pct) = match value.strip_suffix('%') {
            Some(v) => (v, true),
            None => (value, false),
        };
        let Ok(mut bound) = num.parse::<f64>() else {
            bail!("`{text}`: `{value}` is not a number");
        };
        if !bound.is_finite() {
            bail!("`{text}`: `{value}` is not a finite number");
        }
        if pct {
            if col.unit != Unit::Bytes {
                bail!("`{text}`: a percentage (of maxmemory) only bounds a memory figure in bytes; `{metric}` is in {}", col.unit.name());
            }
            bound /= 100.0;
        }
        let (lo, hi) = match col.unit {
            Unit::Ratio => (0.0, 1.0),
            _ => (0.0, f64::INFINITY),
        };
        let impossible = match cmp {
            Cmp::Ge => bound > hi,
            Cmp::Gt => bound >= hi,
            Cmp::Le | Cmp::Eq => bound < lo || (cmp == Cmp::Eq && bound > hi),
            Cmp::Lt => bound <= lo,
        };
        if impossible {
            bail!(
                "`{text}`: no run can meet it: `{metric}` ({}) lies in {}..{}",
                col.unit.name(),
                fmt_f64(lo),
                if hi.is_finite() {
                    fmt_f64(hi)
                } else {
                    "∞".into()
                }
            );
        }
        let column = match &namespace {
            Some(ns) => format!("{ns}_{metric}"),
            None => metric.clone(),
        };
        Ok(Objective {
            text: text.trim().to_string(),
            column,
            namespace,
            cmp,
            bound,
            of_maxmemory: pct,
            unit: col.unit,
            origin,
        })
    }

    /// All objectives of a plan: targets, requirements, then the harm
    /// constraints not allowed and not already required.
    pub fn objectives(
        &self,
        targets: &[String],
        requires: &[String],
        allow: &[String],
    ) -> Result<Vec<Objective>> {
        let mut v = Vec::new();
        for t in targets {
            v.push(self.parse(t, Origin::Target)?);
        }
        for r in requires {
            v.push(self.parse(r, Origin::Require)?);
        }
        let harms = self.harms();
        for a in allow {
            let col = a.trim().replacen('.', "_", 1);
            if !harms.iter().any(|h| h.column == col) {
                bail!(
                    "--allow {a}: not a harm constraint of this workload; they are: {}",
                    harms
                        .iter()
                        .map(|h| h.text.trim_end_matches("==0"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        for h in harms {
            let allowed = allow
                .iter()
                .any(|a| a.trim().replacen('.', "_", 1) == h.column);
            if !allowed && !v.iter().any(|o: &Objective| o.column == h.column) {
                v.push(h);
            }
        }
        Ok(v)
    }
}

/// Whether an outcome column means the application lost something: its
/// description (next to the pattern's code) says "harm".
pub fn is_harm(c: &Column) -> bool {
    c.description.contains("harm)")
}

/// The column's description, for the words of the verdict.
pub fn describe(column: &str, cat: &Catalog) -> Option<Column> {
    let prefixes: Vec<&str> = cat.namespaces.iter().map(|n| n.0.as_str()).collect();
    let outcomes: Vec<_> = OUTCOMES.iter().map(|o| o.1).collect();
    schema::describe(column, &prefixes, &outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mixed() -> Catalog {
        let w =
            crate::workload::load_workload(std::path::Path::new("workloads/mixed.toml")).unwrap();
        Catalog::of_workload(&w)
    }

    #[test]
    fn names_and_bounds_are_checked() {
        let c = mixed();
        let o = c.parse("cache.hit_ratio>=0.8", Origin::Target).unwrap();
        assert_eq!(
            (o.column.as_str(), o.cmp, o.bound),
            ("cache_hit_ratio", Cmp::Ge, 0.8)
        );
        let e = c
            .parse("cash.hit_ratio>=0.8", Origin::Target)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no namespace `cash`") && e.contains("cache"),
            "{e}"
        );
        let e = c
            .parse("cache.hit_rate>=0.8", Origin::Target)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no metric `hit_rate`") && e.contains("hit_ratio"),
            "{e}"
        );
        let e = c
            .parse("hit_ratio>=1.2", Origin::Target)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no run can meet it"), "{e}");
        let e = c
            .parse("session.logged_out_early<0", Origin::Require)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no run can meet it"), "{e}");
        let e = c
            .parse("hit_ratio>=10%", Origin::Target)
            .unwrap_err()
            .to_string();
        assert!(e.contains("percentage"), "{e}");
        let o = c.parse("stale_memory_peak<=10%", Origin::Require).unwrap();
        assert!(o.of_maxmemory && o.met(Some(9.0), 100) && !o.met(Some(11.0), 100));
    }

    #[test]
    fn harm_is_a_default_constraint_that_allow_relaxes() {
        let c = mixed();
        let all = c.objectives(&[], &[], &[]).unwrap();
        let cols: Vec<_> = all.iter().map(|o| o.column.as_str()).collect();
        for h in [
            "oom_rejections",
            "session_logged_out_early",
            "session_logins_refused",
            "verify_lost_to_eviction",
            "rl_wrongly_allowed",
            "rl_wrongly_denied",
        ] {
            assert!(cols.contains(&h), "{h} missing from {cols:?}");
        }
        let some = c
            .objectives(
                &[],
                &["rl.wrongly_allowed<=100".into()],
                &["session.logged_out_early".into()],
            )
            .unwrap();
        assert!(!some.iter().any(|o| o.column == "session_logged_out_early"));
        let rl: Vec<_> = some
            .iter()
            .filter(|o| o.column == "rl_wrongly_allowed")
            .collect();
        assert_eq!((rl.len(), rl[0].bound), (1, 100.0));
        let e = c
            .objectives(&[], &[], &["cache.hit_ratio".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not a harm constraint") && e.contains("session.logged_out_early"),
            "{e}"
        );
    }
}
