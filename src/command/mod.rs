//! Redis command syntax on top of the store: parses an argument vector as
//! Redis 7.0 does (`processCommand` checks, `t_string.c`, `expire.c`,
//! `config.c` parsing rules and error texts), runs it on a
//! [`Store<Vec<u8>>`](crate::store::Store), and returns the [`Reply`].
//!
//! Key names are interned to integer ids here, so the store sees only ids.

use crate::reply::Reply;
use crate::store::config::{glob_match, NAMES};
use crate::store::memory;
use crate::store::{
    Config, ExpireCond, GetexAction, IncrError, Key, Micros, Oom, Payload, SetCond, SetTtl,
    SimValue, Store, TtlState,
};
use rustc_hash::FxHashMap;
use std::fmt::Write;

/// A command's table entry: arity as Redis declares it (negative = at
/// least), and whether it is refused when out of memory (DENYOOM).
struct Spec {
    name: &'static str,
    arity: i32,
    denyoom: bool,
}

const fn spec(name: &'static str, arity: i32, denyoom: bool) -> Spec {
    Spec {
        name,
        arity,
        denyoom,
    }
}

/// Commands the model implements, with Redis 7.0's arities and flags.
const COMMANDS: &[Spec] = &[
    spec("get", 2, false),
    spec("set", -3, true),
    spec("setex", 4, true),
    spec("psetex", 4, true),
    spec("setnx", 3, true),
    spec("mget", -2, false),
    spec("mset", -3, true),
    spec("getex", -2, false),
    spec("getdel", 2, false),
    spec("del", -2, false),
    spec("unlink", -2, false),
    spec("exists", -2, false),
    spec("type", 2, false),
    spec("touch", -2, false),
    spec("incr", 2, true),
    spec("incrby", 3, true),
    spec("decr", 2, true),
    spec("decrby", 3, true),
    spec("expire", -3, false),
    spec("pexpire", -3, false),
    spec("expireat", -3, false),
    spec("pexpireat", -3, false),
    spec("ttl", 2, false),
    spec("pttl", 2, false),
    spec("expiretime", 2, false),
    spec("pexpiretime", 2, false),
    spec("persist", 2, false),
    spec("dbsize", 1, false),
    spec("flushall", -1, false),
    spec("config", -2, false),
    spec("info", -1, false),
    spec("object", -2, false),
    spec("memory", -2, false),
    spec("debug", -2, false),
    spec("ping", -1, false),
];

/// True for a command the model has (`name` in any case): MONITOR replay
/// skips the others (hashes, lists, ...) and counts them.
pub fn is_supported(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    COMMANDS
        .iter()
        .any(|c| c.name.as_bytes() == lower.as_slice())
}

/// The positions of a command's key arguments in `argv`, as Redis's key
/// specs give them for the commands the model has: every argument of MGET,
/// DEL, UNLINK, EXISTS and TOUCH, every other one of MSET, the third of
/// OBJECT and MEMORY, none for server commands, otherwise the first.
pub fn key_positions(argv: &[Vec<u8>]) -> impl Iterator<Item = usize> {
    let name = argv
        .first()
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default();
    let argc = argv.len();
    let (start, step) = match name.as_slice() {
        b"mget" | b"del" | b"unlink" | b"exists" | b"touch" => (1, 1),
        b"mset" => (1, 2),
        b"object" | b"memory" => (2, argc),
        b"dbsize" | b"flushall" | b"config" | b"info" | b"ping" | b"debug" => (argc, 1),
        _ => (1, argc),
    };
    (start..argc).step_by(step.max(1))
}

/// Subcommands of container commands: (container, name, arity).
const SUBCOMMANDS: &[(&str, &str, i32)] = &[
    ("config", "get", -3),
    ("config", "set", -4),
    ("config", "resetstat", 2),
    ("object", "freq", 3),
    ("object", "idletime", 3),
    ("object", "encoding", 3),
    ("memory", "usage", -3),
];

/// What a command asks of its caller beyond its reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Nothing.
    None,
    /// `DEBUG SLEEP`: the server is blocked for this long (the shell advances
    /// its simulated clock).
    Sleep(Micros),
}

/// A value the command layer can store: made from a command's argument,
/// and turned back into a bulk reply.
pub trait Value: Payload + Clone {
    /// The value a SET of `arg` stores.
    fn from_arg(arg: &[u8]) -> Self;
    /// The bytes a GET replies with.
    fn to_bulk(&self) -> Vec<u8>;
}

impl Value for Vec<u8> {
    fn from_arg(arg: &[u8]) -> Self {
        arg.to_vec()
    }
    fn to_bulk(&self) -> Vec<u8> {
        self.clone()
    }
}

/// The simulator's values keep only what the memory model needs: an
/// integer as Redis would encode it, or a length. A GET of a blob replies
/// with that many `x` bytes.
impl Value for SimValue {
    fn from_arg(arg: &[u8]) -> Self {
        match crate::store::value::parse_canonical_int(arg) {
            Some(i) => SimValue::Int(i),
            None => SimValue::Blob(arg.len() as u32),
        }
    }
    fn to_bulk(&self) -> Vec<u8> {
        match *self {
            SimValue::Int(i) => i.to_string().into_bytes(),
            SimValue::Blob(n) => vec![b'x'; n as usize],
        }
    }
}

/// Maps a command's key names to the store's integer keys.
pub trait KeyMap {
    /// The key named `name` (the same name always gives the same key).
    fn key(&mut self, name: &[u8]) -> Key;
}

/// Key names interned to dense ids in order of first use.
#[derive(Default)]
pub struct Interner(FxHashMap<Vec<u8>, u64>);

impl KeyMap for Interner {
    fn key(&mut self, name: &[u8]) -> Key {
        let next = self.0.len() as u64;
        let id = match self.0.get(name) {
            Some(&id) => id,
            None => {
                self.0.insert(name.to_vec(), next);
                next
            }
        };
        Key {
            id,
            len: name.len() as u32,
        }
    }
}

/// One command's execution context: a store and the names of its keys.
/// The shell's [`Server`] and a MONITOR replay (whose keys carry
/// namespaces for the metrics) run every command through this one
/// implementation.
pub struct Exec<'a, V: Value, K: KeyMap> {
    /// The store.
    pub store: &'a mut Store<V>,
    /// How names become keys.
    pub keys: &'a mut K,
}

/// A Redis server front end: interned key names and one store.
pub struct Server {
    store: Store<Vec<u8>>,
    names: Interner,
}

fn lower(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}

fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// `getLongLongFromObjectOrReply`.
fn int_arg(arg: &[u8]) -> Result<i64, Reply> {
    crate::store::value::parse_canonical_int(arg)
        .ok_or_else(|| Reply::err("value is not an integer or out of range"))
}

fn expire_time_error(cmd: &str) -> Reply {
    Reply::err(format!("invalid expire time in '{cmd}' command"))
}

/// Expiry options shared by SET and GETEX (`parseExtendedStringArgumentsOrReply`).
#[derive(Default)]
struct StringOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// (unit is seconds, absolute, argument)
    expire: Option<(bool, bool, &'a [u8])>,
}

impl Server {
    /// A server with the given settings, hash/sampling seed and start time.
    pub fn new(cfg: Config, seed: u64, now: Micros) -> Self {
        Server {
            store: Store::new(cfg, seed, now),
            names: Interner::default(),
        }
    }

    /// The underlying store.
    pub fn store(&self) -> &Store<Vec<u8>> {
        &self.store
    }

    /// The underlying store, mutably (cron ticks, settings).
    pub fn store_mut(&mut self) -> &mut Store<Vec<u8>> {
        &mut self.store
    }

    /// Runs one command at simulated time `now`.
    pub fn execute(&mut self, argv: &[Vec<u8>], now: Micros) -> (Reply, Effect) {
        Exec {
            store: &mut self.store,
            keys: &mut self.names,
        }
        .execute(argv, now)
    }
}

impl<V: Value, K: KeyMap> Exec<'_, V, K> {
    fn key(&mut self, name: &[u8]) -> Key {
        self.keys.key(name)
    }

    /// Runs one command at simulated time `now`, as `processCommand` does:
    /// the command table, arity, subcommands, the OOM check, then the command.
    pub fn execute(&mut self, argv: &[Vec<u8>], now: Micros) -> (Reply, Effect) {
        let Some(first) = argv.first() else {
            return (Reply::err("empty command"), Effect::None);
        };
        let name = lower(first);
        let Some(spec) = COMMANDS.iter().find(|s| s.name == name) else {
            return (unknown_command(argv), Effect::None);
        };
        if !arity_ok(spec.arity, argv.len()) {
            return (arity_error(spec.name), Effect::None);
        }
        if let Some(sub) = self.check_subcommand(spec.name, argv) {
            return (sub, Effect::None);
        }
        if self.store.begin(now, spec.denyoom) == Err(Oom) {
            return (
                Reply::Error("OOM command not allowed when used memory > 'maxmemory'.".into()),
                Effect::None,
            );
        }
        match self.dispatch(spec.name, argv) {
            Ok(r) => r,
            Err(e) => (e, Effect::None),
        }
    }

    /// Container commands: unknown subcommand or wrong arity, as
    /// processCommand reports them.
    fn check_subcommand(&self, container: &str, argv: &[Vec<u8>]) -> Option<Reply> {
        if !SUBCOMMANDS.iter().any(|(c, _, _)| *c == container) {
            return None;
        }
        let sub = lower(&argv[1]);
        match SUBCOMMANDS
            .iter()
            .find(|(c, s, _)| *c == container && *s == sub)
        {
            None => Some(Reply::err(format!(
                "unknown subcommand '{}'. Try {} HELP.",
                text(&argv[1]),
                container.to_ascii_uppercase()
            ))),
            Some((_, s, arity)) if !arity_ok(*arity, argv.len()) => {
                Some(arity_error(&format!("{container}|{s}")))
            }
            Some(_) => None,
        }
    }

    fn dispatch(&mut self, name: &str, argv: &[Vec<u8>]) -> Result<(Reply, Effect), Reply> {
        let reply = match name {
            "get" => {
                let k = self.key(&argv[1]);
                self.store
                    .get(k)
                    .map_or(Reply::Nil, |v| Reply::Bulk(v.to_bulk()))
            }
            "set" => self.set_command(argv)?,
            "setex" | "psetex" => {
                let seconds = name == "setex";
                let when = self.expire_ms(name, seconds, false, &argv[2])?;
                let k = self.key(&argv[1]);
                self.store.set(
                    k,
                    V::from_arg(&argv[3]),
                    SetCond::Always,
                    SetTtl::At(when),
                    false,
                );
                Reply::ok()
            }
            "setnx" => {
                let k = self.key(&argv[1]);
                let (written, _) =
                    self.store
                        .set(k, V::from_arg(&argv[2]), SetCond::Nx, SetTtl::Clear, false);
                Reply::bool(written)
            }
            "mget" => Reply::Array(
                argv[1..]
                    .iter()
                    .map(|a| {
                        let k = self.key(a);
                        self.store
                            .get(k)
                            .map_or(Reply::Nil, |v| Reply::Bulk(v.to_bulk()))
                    })
                    .collect(),
            ),
            "mset" => {
                if argv.len().is_multiple_of(2) {
                    return Err(arity_error("mset"));
                }
                for pair in argv[1..].chunks(2) {
                    let k = self.key(&pair[0]);
                    self.store.set(
                        k,
                        V::from_arg(&pair[1]),
                        SetCond::Always,
                        SetTtl::Clear,
                        false,
                    );
                }
                Reply::ok()
            }
            "getex" => self.getex_command(argv)?,
            "getdel" => {
                let k = self.key(&argv[1]);
                self.store
                    .getdel(k)
                    .map_or(Reply::Nil, |v| Reply::Bulk(v.to_bulk()))
            }
            "del" | "unlink" => Reply::Int(self.count_keys(argv, |s, k| s.del(k))),
            "exists" => Reply::Int(self.count_keys(argv, |s, k| s.exists(k))),
            "touch" => Reply::Int(self.count_keys(argv, |s, k| s.touch(k))),
            "type" => {
                // Every key of the model is a string; TYPE's lookup does not
                // touch the key, like EXISTS.
                let k = self.key(&argv[1]);
                let t = if self.store.exists(k) {
                    "string"
                } else {
                    "none"
                };
                Reply::Status(t.into())
            }
            "incr" | "decr" => self.incr(&argv[1], if name == "incr" { 1 } else { -1 })?,
            "incrby" => {
                let by = int_arg(&argv[2])?;
                self.incr(&argv[1], by)?
            }
            "decrby" => {
                let by = int_arg(&argv[2])?;
                if by == i64::MIN {
                    return Err(Reply::err("decrement would overflow"));
                }
                self.incr(&argv[1], -by)?
            }
            "expire" | "pexpire" | "expireat" | "pexpireat" => self.expire_command(name, argv)?,
            "ttl" | "pttl" | "expiretime" | "pexpiretime" => {
                let k = self.key(&argv[1]);
                let now = self.store.now_ms();
                Reply::Int(match self.store.ttl(k) {
                    TtlState::Missing => -2,
                    TtlState::Persistent => -1,
                    TtlState::At(when) => {
                        let v = if name.ends_with("time") {
                            when
                        } else {
                            when - now
                        }
                        .max(0);
                        if name.starts_with('p') {
                            v
                        } else {
                            // Redis's (ttl+500)/1000 yields the exact rounded
                            // value even at i64::MAX (observed: PXAT
                            // 9223372036854775807 → EXPIRETIME 9223372036854776).
                            ((v as i128 + 500) / 1000) as i64
                        }
                    }
                })
            }
            "persist" => {
                let k = self.key(&argv[1]);
                Reply::bool(self.store.persist(k))
            }
            "dbsize" => Reply::Int(self.store.dbsize() as i64),
            "flushall" => {
                if argv.len() > 2
                    || (argv.len() == 2 && !matches!(lower(&argv[1]).as_str(), "sync" | "async"))
                {
                    return Err(Reply::err("syntax error"));
                }
                self.store.flushall();
                Reply::ok()
            }
            "config" => self.config_command(argv)?,
            "info" => Reply::Raw(self.info(argv)),
            "object" => self.object_command(argv)?,
            "memory" => {
                let samples_ok =
                    argv.len() == 5 && lower(&argv[3]) == "samples" && int_arg(&argv[4]).is_ok();
                if argv.len() != 3 && !samples_ok {
                    return Err(Reply::err("syntax error"));
                }
                let id = self.key(&argv[2]).id;
                match self.store.key_memory(id) {
                    None => Reply::Nil,
                    Some(_) => Reply::Int(self.memory_usage(id, &argv[2]) as i64),
                }
            }
            "debug" => return self.debug_command(argv),
            "ping" => match argv.len() {
                1 => Reply::Status("PONG".into()),
                2 => Reply::Bulk(argv[1].clone()),
                _ => return Err(arity_error("ping")),
            },
            _ => unreachable!("command table and dispatch disagree on {name}"),
        };
        Ok((reply, Effect::None))
    }

    fn count_keys(
        &mut self,
        argv: &[Vec<u8>],
        mut f: impl FnMut(&mut Store<V>, Key) -> bool,
    ) -> i64 {
        let mut n = 0;
        for a in &argv[1..] {
            let k = self.key(a);
            n += f(self.store, k) as i64;
        }
        n
    }

    fn incr(&mut self, key: &[u8], by: i64) -> Result<Reply, Reply> {
        let k = self.key(key);
        match self.store.incr_by(k, by) {
            Ok(v) => Ok(Reply::Int(v)),
            Err(IncrError::NotInteger) => {
                Err(Reply::err("value is not an integer or out of range"))
            }
            Err(IncrError::Overflow) => Err(Reply::err("increment or decrement would overflow")),
        }
    }

    /// `getExpireMillisecondsOrReply`: positive, no overflow; relative times
    /// are added to the command's time.
    fn expire_ms(
        &self,
        cmd: &str,
        seconds: bool,
        absolute: bool,
        arg: &[u8],
    ) -> Result<i64, Reply> {
        let v = int_arg(arg)?;
        if v <= 0 || (seconds && v > i64::MAX / 1000) {
            return Err(expire_time_error(cmd));
        }
        let ms = if seconds { v * 1000 } else { v };
        let when = if absolute {
            ms
        } else {
            ms.checked_add(self.store.now_ms()).unwrap_or(-1)
        };
        if when <= 0 {
            return Err(expire_time_error(cmd));
        }
        Ok(when)
    }

    /// `parseExtendedStringArgumentsOrReply` for SET (`for_set`) or GETEX.
    fn parse_string_opts<'a>(argv: &'a [Vec<u8>], for_set: bool) -> Result<StringOpts<'a>, Reply> {
        let mut o = StringOpts::default();
        let mut j = if for_set { 3 } else { 2 };
        let syntax = || Reply::err("syntax error");
        while j < argv.len() {
            let opt = lower(&argv[j]);
            let next = argv.get(j + 1);
            let has_expire = o.expire.is_some();
            let expire_kind = o.expire.map(|(s, a, _)| (s, a));
            // EX/PX/EXAT/PXAT exclude each other's *other* kinds; repeating the
            // same kind is accepted and the last value wins.
            let kind_ok = |k: (bool, bool)| expire_kind.is_none_or(|e| e == k);
            match opt.as_str() {
                "nx" if for_set && !o.xx => o.nx = true,
                "xx" if for_set && !o.nx => o.xx = true,
                "get" if for_set => o.get = true,
                "keepttl" if for_set && !o.persist && !has_expire => o.keepttl = true,
                "persist" if !for_set && !has_expire && !o.keepttl => o.persist = true,
                "ex" | "px" | "exat" | "pxat" => {
                    let kind = (opt == "ex" || opt == "exat", opt == "exat" || opt == "pxat");
                    match next {
                        Some(arg) if !o.keepttl && !o.persist && kind_ok(kind) => {
                            o.expire = Some((kind.0, kind.1, arg.as_slice()));
                            j += 1;
                        }
                        _ => return Err(syntax()),
                    }
                }
                _ => return Err(syntax()),
            }
            j += 1;
        }
        Ok(o)
    }

    fn set_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let o = Self::parse_string_opts(argv, true)?;
        let ttl = match o.expire {
            Some((secs, abs, arg)) => SetTtl::At(self.expire_ms("set", secs, abs, arg)?),
            None if o.keepttl => SetTtl::Keep,
            None => SetTtl::Clear,
        };
        let cond = if o.nx {
            SetCond::Nx
        } else if o.xx {
            SetCond::Xx
        } else {
            SetCond::Always
        };
        let k = self.key(&argv[1]);
        let (written, old) = self.store.set(k, V::from_arg(&argv[2]), cond, ttl, o.get);
        Ok(if o.get {
            old.map_or(Reply::Nil, |v| Reply::Bulk(v.to_bulk()))
        } else if written {
            Reply::ok()
        } else {
            Reply::Nil
        })
    }

    /// GETEX: options are parsed first, then the key is looked up (a miss
    /// replies nil even with an invalid time), then the time is validated.
    fn getex_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let o = Self::parse_string_opts(argv, false)?;
        let k = self.key(&argv[1]);
        let Some(value) = self.store.get(k).cloned() else {
            return Ok(Reply::Nil);
        };
        let action = match o.expire {
            Some((secs, abs, arg)) => GetexAction::At(self.expire_ms("getex", secs, abs, arg)?),
            None if o.persist => GetexAction::Persist,
            None => GetexAction::None,
        };
        self.store.getex_apply(k, action);
        Ok(Reply::Bulk(value.to_bulk()))
    }

    /// `expireGenericCommand` with `parseExtendedExpireArgumentsOrReply`.
    fn expire_command(&mut self, name: &str, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let mut cond = ExpireCond::default();
        for opt in &argv[3..] {
            match lower(opt).as_str() {
                "nx" => cond.nx = true,
                "xx" => cond.xx = true,
                "gt" => cond.gt = true,
                "lt" => cond.lt = true,
                _ => return Err(Reply::err(format!("Unsupported option {}", text(opt)))),
            }
        }
        if cond.nx && (cond.xx || cond.gt || cond.lt) {
            return Err(Reply::err(
                "NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if cond.gt && cond.lt {
            return Err(Reply::err(
                "GT and LT options at the same time are not compatible",
            ));
        }
        let mut when = int_arg(&argv[2])?;
        if !name.starts_with('p') {
            when = when
                .checked_mul(1000)
                .ok_or_else(|| expire_time_error(name))?;
        }
        let base = if name.ends_with("at") {
            0
        } else {
            self.store.now_ms()
        };
        let when = when
            .checked_add(base)
            .ok_or_else(|| expire_time_error(name))?;
        let k = self.key(&argv[1]);
        Ok(Reply::bool(self.store.expire(k, when, cond)))
    }

    fn config_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
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

    fn object_command(&mut self, argv: &[Vec<u8>]) -> Result<Reply, Reply> {
        let sub = lower(&argv[1]);
        let k = self.key(&argv[2]);
        // objectCommandLookup: a read lookup without touching (counts stats).
        if !self.store.exists(k) {
            return Ok(Reply::Nil);
        }
        let lfu = self.store.config().policy.is_lfu();
        match sub.as_str() {
            "encoding" => {
                let enc = self.store.peek(k.id).map(|(_, _, e, _)| e.name()).unwrap_or("raw");
                Ok(Reply::bulk(enc))
            }
            "freq" if !lfu => Err(Reply::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")),
            "freq" => Ok(Reply::Int(self.store.object_freq(k.id).unwrap_or(0) as i64)),
            "idletime" if lfu => Err(Reply::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")),
            _ => Ok(Reply::Int(self.store.object_idletime(k.id).unwrap_or(0) as i64)),
        }
    }

    /// `MEMORY USAGE`: `objectComputeSize` + the key's sds + `sizeof(dictEntry)`
    /// (24, unrounded), as memoryCommand adds them.
    fn memory_usage(&self, id: u64, name: &[u8]) -> u64 {
        let Some((value, _, enc, _)) = self.store.peek(id) else {
            return 0;
        };
        // objectComputeSize counts a shared integer's robj too.
        let value_size = match enc {
            memory::Encoding::SharedInt => memory::ROBJ,
            e => e.value_bytes(Payload::len(value)),
        };
        value_size + memory::sds_bytes(name.len() as u64) + 24
    }

    fn debug_command(&mut self, argv: &[Vec<u8>]) -> Result<(Reply, Effect), Reply> {
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
    fn info(&self, argv: &[Vec<u8>]) -> String {
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
}

fn arity_ok(arity: i32, argc: usize) -> bool {
    if arity >= 0 {
        argc == arity as usize
    } else {
        argc >= (-arity) as usize
    }
}

fn arity_error(name: &str) -> Reply {
    Reply::err(format!("wrong number of arguments for '{name}' command"))
}

/// processCommand's unknown-command error: the name and up to 128 bytes of
/// arguments, each quoted and followed by a space.
fn unknown_command(argv: &[Vec<u8>]) -> Reply {
    let name: String = text(&argv[0]).chars().take(128).collect();
    let mut args = String::new();
    for a in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        let t = text(a);
        let cut: String = t.chars().take(room).collect();
        let _ = write!(args, "'{cut}' ");
    }
    let msg = format!("unknown command '{name}', with args beginning with: {args}");
    Reply::err(msg.replace(['\r', '\n'], " "))
}

#[cfg(test)]
mod tests;
