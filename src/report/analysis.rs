//! Analysis: what the sweep varied (swept parameters, seeds, TTL columns),
//! the values held fixed when a chart does not vary them, the policy ranking
//! and the runs picked to contrast.

use super::data::RunsTable;
use super::labels::{grid_text, show_value, MEM, POLICY};
use super::Options;

/// The analysis shared by all charts.
pub(crate) struct Ctx {
    pub t: RunsTable,
    pub workload: String,
    /// Swept parameters other than `seed`.
    pub swept: Vec<String>,
    pub seeds: usize,
    pub ttl_params: Vec<String>,
    pub mem_swept: bool,
    pub policy_swept: bool,
    pub grid_text: String,
}

impl Ctx {
    pub(crate) fn new(t: RunsTable) -> Ctx {
        let swept_all = t.swept_params();
        let swept: Vec<String> = swept_all.iter().filter(|c| *c != "seed").cloned().collect();
        let seeds = t.distinct("seed").len().max(1);
        let ttl_params = swept
            .iter()
            .filter(|c| c.starts_with("param_") && c.contains("ttl"))
            .cloned()
            .collect();
        let workload = t
            .rows
            .first()
            .map(|r| t.get(r, "workload").to_string())
            .unwrap_or_default();
        let grid_text = grid_text(&t, &swept, seeds);
        Ctx {
            mem_swept: swept.iter().any(|c| c == MEM),
            policy_swept: swept.iter().any(|c| c == POLICY),
            t,
            workload,
            swept,
            seeds,
            ttl_params,
            grid_text,
        }
    }

    /// The value a swept parameter is held at when a chart does not vary it:
    /// the middle of its sorted values.
    fn reference(&self, col: &str) -> String {
        let v = self.t.distinct(col);
        v.get(v.len() / 2).cloned().unwrap_or_default()
    }

    /// `(column, value)` filters holding every swept parameter except `free`.
    pub(crate) fn fixed(&self, free: &[&str]) -> Vec<(String, String)> {
        self.swept
            .iter()
            .filter(|c| !free.contains(&c.as_str()))
            .map(|c| (c.clone(), self.reference(c)))
            .collect()
    }
}

/// Mean hit ratio per policy over all runs, best first.
pub(crate) fn policy_ranking(cx: &Ctx) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> =
        cx.t.aggregate("hit_ratio", &[POLICY], &[])
            .into_iter()
            .map(|(k, st)| (k.0[0].clone(), st.mean))
            .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// The runs the memory chart shows: the ones asked for, else the best and the
/// worst policy at the smallest and the largest memory size.
pub(crate) fn chosen_runs(cx: &Ctx, opts: &Options) -> Vec<(String, String)> {
    let t = &cx.t;
    let label = |r: &Vec<String>| {
        let mut parts: Vec<String> = cx
            .swept
            .iter()
            .map(|c| show_value(c, t.get(r, c)))
            .collect();
        parts.push(format!("seed {}", t.get(r, "seed")));
        format!("run {}: {}", t.get(r, "run_id"), parts.join(", "))
    };
    if !opts.runs.is_empty() {
        return t
            .rows
            .iter()
            .filter(|r| opts.runs.iter().any(|id| id == t.get(r, "run_id")))
            .map(|r| (t.get(r, "run_id").to_string(), label(r)))
            .collect();
    }
    let mut fixed = cx.fixed(&[MEM, POLICY]);
    if let Some(s) = t.distinct("seed").first() {
        fixed.push(("seed".into(), s.clone()));
    }
    let mems: Vec<String> = t.distinct(MEM).into_iter().filter(|m| m != "0").collect();
    let mem_picks: Vec<String> = match (mems.first(), mems.last()) {
        (Some(a), Some(b)) if a != b => vec![a.clone(), b.clone()],
        (Some(a), _) => vec![a.clone()],
        _ => vec![String::new()],
    };
    let ranking = policy_ranking(cx);
    let mut pols: Vec<String> = Vec::new();
    if let Some(b) = ranking.first() {
        pols.push(b.0.clone());
    }
    if let Some(w) = ranking.last() {
        if !pols.contains(&w.0) {
            pols.push(w.0.clone());
        }
    }
    let mut out = Vec::new();
    for m in &mem_picks {
        for p in &pols {
            let mut f = fixed.clone();
            if !m.is_empty() {
                f.push((MEM.into(), m.clone()));
            }
            f.push((POLICY.into(), p.clone()));
            let found = t
                .select(&f)
                .next()
                .map(|r| (t.get(r, "run_id").to_string(), label(r)));
            if let Some((id, l)) = found {
                if !out.iter().any(|(i, _)| *i == id) {
                    out.push((id, l));
                }
            }
        }
    }
    if out.is_empty() {
        if let Some(r) = t.rows.first() {
            out.push((t.get(r, "run_id").to_string(), label(r)));
        }
    }
    out
}
