//! Checks a `runs.csv` against its schema before the report draws from it,
//! so a corrupted or hand-edited file is refused with what is wrong where
//! instead of drawn silently: the columns the report needs, whole unique
//! `run_id`s, hit ratios that are numbers in 0..=1 (or empty: no reads), and
//! byte counts that are whole numbers >= 0.

use anyhow::{bail, Result};
use std::collections::HashMap;
use std::path::Path;

/// Columns the report cannot do without.
pub const REQUIRED: [&str; 2] = ["run_id", "hit_ratio"];

/// Columns that hold a byte count or a count (whole numbers >= 0).
fn is_count(name: &str) -> bool {
    matches!(
        name,
        "maxmemory" | "requests" | "hits" | "misses" | "used_memory_peak" | "evicted_keys"
    )
}

/// Refuses a table that breaks the schema; `path` names the file and each
/// row is named by its line (the header is line 1).
pub fn check(path: &Path, columns: &[String], rows: &[Vec<String>]) -> Result<()> {
    let file = path.display();
    for want in REQUIRED {
        if !columns.iter().any(|c| c == want) {
            bail!(
                "{file}:1: no `{want}` column (a renamed or missing column?); the header has: {}",
                columns.join(",")
            );
        }
    }
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let line = i + 2;
        if row.len() != columns.len() {
            bail!(
                "{file}:{line}: {} fields, but the header has {}",
                row.len(),
                columns.len()
            );
        }
        for (name, cell) in columns.iter().zip(row) {
            let bad = |why: &str| anyhow::anyhow!("{file}:{line}: column `{name}`: `{cell}` {why}");
            if name == "run_id" {
                let id: u64 = cell
                    .parse()
                    .map_err(|_| bad("is not a whole number >= 0"))?;
                if let Some(first) = seen.insert(id, line) {
                    bail!("{file}:{line}: run_id {id} is also on line {first} (duplicate run)");
                }
            } else if name == "hit_ratio" || name.ends_with("_hit_ratio") {
                if cell.is_empty() {
                    continue;
                }
                let v: f64 = cell.parse().map_err(|_| bad("is not a number"))?;
                if !(0.0..=1.0).contains(&v) {
                    return Err(bad("is not a ratio between 0 and 1"));
                }
            } else if is_count(name) && !cell.is_empty() && cell.parse::<u64>().is_err() {
                return Err(bad("is not a whole number >= 0"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&str]) -> Result<()> {
        let columns: Vec<String> = "run_id,maxmemory,hit_ratio,cache_hit_ratio"
            .split(',')
            .map(String::from)
            .collect();
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.split(',').map(String::from).collect())
            .collect();
        check(Path::new("runs.csv"), &columns, &rows)
    }

    #[test]
    fn corrupted_cells_are_named_with_their_line() {
        assert!(table(&["0,100,0.5,", "1,100,1,0"]).is_ok());
        let err = |rows: &[&str]| table(rows).unwrap_err().to_string();
        assert_eq!(
            err(&["0,100,banana,0"]),
            "runs.csv:2: column `hit_ratio`: `banana` is not a number"
        );
        assert_eq!(
            err(&["0,100,0.5,0", "1,100,NaN,0"]),
            "runs.csv:3: column `hit_ratio`: `NaN` is not a ratio between 0 and 1"
        );
        assert_eq!(
            err(&["0,100,0.5,0", "0,100,0.5,0"]),
            "runs.csv:3: run_id 0 is also on line 2 (duplicate run)"
        );
        assert_eq!(
            err(&["0,-5,0.5,0"]),
            "runs.csv:2: column `maxmemory`: `-5` is not a whole number >= 0"
        );
    }
}
