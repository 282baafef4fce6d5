//! Server commands, as Redis's `config.c` (CONFIG GET, SET, RESETSTAT),
//! `server.c` (INFO, PING) and `debug.c` (DEBUG SLEEP).

use super::{arity_error, lower, text, Effect, Exec, KeyMap, Value};
use crate::reply::Reply;
use crate::store::config::{glob_match, NAMES};
use crate::store::Micros;
use std::fmt::Write;

impl<V: Value, K: KeyMap> Exec<'_, V, K> {
    /// CONFIG GET, SET or RESETSTAT (the subcommand is checked before).
    pub(super) fn config_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        match lower(&argv[1]).as_str() {
            "get" => {
                let mut out = Vec::new();
                for pattern in &argv[2..] {
                    let pattern = text(pattern);
                    if !pattern.contains(['*', '?', '[']) {
                        // An exact name is echoed as typed (configGetCommand).
                        let lowered = pattern.to_ascii_lowercase();
                        if let Some(value) = self.store.config().get(&lowered) {
                            out.push(Reply::bulk(pattern));
                            out.push(Reply::bulk(value));
                        }
                        continue;
                    }
                    for name in NAMES {
                        if glob_match(&pattern, name) {
                            let value = self.store.config().get(name).unwrap_or_default();
                            out.push(Reply::bulk(name));
                            out.push(Reply::bulk(value));
                        }
                    }
                }
                Ok(Reply::Array(out))
            }
            "set" => {
                if argv.len() % 2 == 1 {
                    return Err(arity_error("config|set"));
                }
                // configSetCommand: first unknown names and duplicates, then
                // all values, all-or-nothing.
                let names: Vec<String> = argv[2..].iter().step_by(2).map(|n| lower(n)).collect();
                for (i, name) in names.iter().enumerate() {
                    let typed = text(&argv[2 + 2 * i]);
                    if self.store.config().get(name).is_none() {
                        return Err(Reply::err(format!(
                            "Unknown option or number of arguments for CONFIG SET - '{typed}'"
                        )));
                    }
                    if names[..i].contains(name) {
                        return Err(Reply::err(format!(
                            "CONFIG SET failed (possibly related to argument '{typed}') - duplicate parameter"
                        )));
                    }
                }
                let mut cfg = self.store.config().clone();
                for pair in argv[2..].chunks(2) {
                    let name = text(&pair[0]);
                    if let Err(reason) = cfg.set(&name, &text(&pair[1])) {
                        return Err(Reply::err(format!(
                            "CONFIG SET failed (possibly related to argument '{name}') - {reason}"
                        )));
                    }
                }
                if cfg.policy.needs_future() {
                    return Err(Reply::err(
                        "CONFIG SET failed (possibly related to argument 'maxmemory-policy') - belady needs the future: use it with ttlsim run --trace",
                    ));
                }
                let policy_changed = cfg.policy != self.store.config().policy;
                let policy = cfg.policy;
                *self.store.config_mut() = cfg;
                if policy_changed {
                    self.store.set_policy(policy);
                }
                Ok(Reply::ok())
            }
            "resetstat" => {
                self.store.reset_stats();
                Ok(Reply::ok())
            }
            _ => unreachable!("subcommands are checked before dispatch"),
        }
    }

    /// DEBUG: only SLEEP, which blocks the server for the given seconds.
    pub(super) fn debug_command(&mut self, argv: &[Vec<u8>]) -> Result<(Reply, Effect), Reply> {
        let sub = lower(&argv[1]);
        if sub == "sleep" && argv.len() == 3 {
            // strtod semantics: unparsable is 0. Capped at 100 years so the
            // simulated clock cannot overflow.
            let secs: f64 = text(&argv[2]).trim().parse().unwrap_or(0.0);
            let secs = if secs.is_finite() {
                secs.clamp(0.0, 3.2e9)
            } else {
                0.0
            };
            let us = (secs * 1e6) as Micros;
            return Ok((Reply::ok(), Effect::Sleep(us)));
        }
        Err(Reply::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            text(&argv[1])
        )))
    }

    /// INFO with the sections the model has (`keyspace`, `stats`, `memory`).
    pub(super) fn info(&self, argv: &[Vec<u8>]) -> String {
        let wanted: Vec<String> = argv[1..].iter().map(|a| lower(a)).collect();
        let all = wanted.is_empty()
            || wanted
                .iter()
                .any(|w| w == "all" || w == "everything" || w == "default");
        let want = |s: &str| all || wanted.iter().any(|w| w == s);
        let s = self.store.stats();
        let cfg = self.store.config();
        let mut sections = Vec::new();
        if want("memory") {
            let mut m = String::from("# Memory\r\n");
            let used = self.store.used_memory();
            let _ = write!(
                m,
                "used_memory:{used}\r\nused_memory_dataset:{}\r\nmaxmemory:{}\r\nmaxmemory_policy:{}\r\nmem_not_counted_for_evict:0\r\n",
                self.store.dataset_memory(),
                cfg.maxmemory,
                cfg.policy.name()
            );
            sections.push(m);
        }
        if want("stats") {
            let mut m = String::from("# Stats\r\n");
            let _ = write!(
                m,
                "expired_keys:{}\r\nexpired_stale_perc:{:.2}\r\nexpired_time_cap_reached_count:{}\r\nexpire_cycle_cpu_milliseconds:{}\r\nevicted_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\n",
                s.expired_keys,
                s.expired_stale_perc * 100.0,
                s.expired_time_cap_reached_count,
                s.expire_cycle_time_used_us / 1000,
                s.evicted_keys,
                s.keyspace_hits,
                s.keyspace_misses
            );
            sections.push(m);
        }
        if want("keyspace") {
            let mut m = String::from("# Keyspace\r\n");
            if self.store.dbsize() > 0 {
                let _ = write!(
                    m,
                    "db0:keys={},expires={},avg_ttl={}\r\n",
                    self.store.dbsize(),
                    self.store.volatile_keys(),
                    self.store.avg_ttl()
                );
            }
            sections.push(m);
        }
        sections.join("\r\n")
    }

    /// PING [message].
    pub(super) fn ping_command(&self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        match argv.len() {
            1 => Ok(Reply::Status("PONG".into())),
            2 => Ok(Reply::Bulk(argv[1].clone())),
            _ => Err(arity_error("ping")),
        }
    }
}
