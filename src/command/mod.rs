//! Redis command syntax on top of the store: parses an argument vector as
//! Redis 7.0 does (`processCommand` checks, `t_string.c`, `expire.c`,
//! `config.c` parsing rules and error texts), runs it on a
//! [`Store<Vec<u8>>`](crate::store::Store), and returns the [`Reply`].
//!
//! Key names are interned to integer ids here, so the store sees only ids.
//!
//! This file holds the command table, the checks `processCommand` makes
//! and the dispatch; the commands live by family, as Redis's sources split
//! them: `strings` (`t_string.c`), `expire` (`expire.c`), `keyspace`
//! (`db.c`) and `server` (`config.c`, `server.c`).

use crate::reply::Reply;
use crate::store::{Config, Key, Micros, Oom, Payload, SimValue, Store};
use rustc_hash::FxHashMap;
use std::fmt::Write;

mod expire;
mod keyspace;
mod server;
mod strings;

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
    spec("append", 3, true),
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
    /// The value APPEND of `tail` leaves: `old` followed by `tail`, or
    /// `tail` alone on a missing key.
    fn appended(old: Option<&Self>, tail: &[u8]) -> Self;
}

impl Value for Vec<u8> {
    fn from_arg(arg: &[u8]) -> Self {
        arg.to_vec()
    }
    fn to_bulk(&self) -> Vec<u8> {
        self.clone()
    }
    fn appended(old: Option<&Self>, tail: &[u8]) -> Self {
        let mut v = old.cloned().unwrap_or_default();
        v.extend_from_slice(tail);
        v
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
    /// A blob keeps only its length, so a blob appended to stays a blob
    /// (an empty one becomes the tail); an integer becomes its digits and
    /// the tail, an integer again if they read as one.
    fn appended(old: Option<&Self>, tail: &[u8]) -> Self {
        match old {
            None | Some(SimValue::Blob(0)) => Self::from_arg(tail),
            Some(SimValue::Int(i)) => {
                let mut digits = i.to_string().into_bytes();
                digits.extend_from_slice(tail);
                Self::from_arg(&digits)
            }
            Some(SimValue::Blob(n)) => {
                SimValue::Blob(n.saturating_add(u32::try_from(tail.len()).unwrap_or(u32::MAX)))
            }
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
        if let Some(e) = precheck(argv) {
            return (e, Effect::None);
        }
        let spec = COMMANDS
            .iter()
            .find(|s| s.name == name)
            .expect("prechecked");
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
}

/// The checks `processCommand` makes before running (or queueing, inside
/// MULTI) a command: the command table, arity and subcommands.
pub fn precheck(argv: &[Vec<u8>]) -> Option<Reply> {
    let name = lower(argv.first()?);
    let Some(spec) = COMMANDS.iter().find(|s| s.name == name) else {
        return Some(unknown_command(argv));
    };
    if !arity_ok(spec.arity, argv.len()) {
        return Some(arity_error(spec.name));
    }
    check_subcommand(spec.name, argv)
}

/// Container commands: unknown subcommand or wrong arity, as
/// processCommand reports them.
fn check_subcommand(container: &str, argv: &[Vec<u8>]) -> Option<Reply> {
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

impl<V: Value, K: KeyMap> Exec<'_, V, K> {
    fn dispatch(&mut self, name: &str, argv: &[Vec<u8>]) -> Result<(Reply, Effect), Reply> {
        // Their replies can show the policy, its settings or a key's
        // LRU/LFU field (and CONFIG SET can change them).
        if matches!(name, "config" | "info" | "object" | "memory" | "debug") {
            self.store.use_policy();
        }
        let reply = match name {
            "get" => self.get_command(argv),
            "set" => self.set_command(argv)?,
            "setex" | "psetex" => self.setex_command(name, argv)?,
            "setnx" => self.setnx_command(argv),
            "mget" => self.mget_command(argv),
            "mset" => self.mset_command(argv)?,
            "getex" => self.getex_command(argv)?,
            "getdel" => self.getdel_command(argv),
            "append" => self.append_command(argv)?,
            "del" | "unlink" => self.del_command(argv),
            "exists" => self.exists_command(argv),
            "touch" => self.touch_command(argv),
            "type" => self.type_command(argv),
            "incr" | "decr" => self.incr(&argv[1], if name == "incr" { 1 } else { -1 })?,
            "incrby" => self.incrby_command(argv)?,
            "decrby" => self.decrby_command(argv)?,
            "expire" | "pexpire" | "expireat" | "pexpireat" => self.expire_command(name, argv)?,
            "ttl" | "pttl" | "expiretime" | "pexpiretime" => self.ttl_command(name, argv),
            "persist" => self.persist_command(argv),
            "dbsize" => self.dbsize_command(),
            "flushall" => self.flushall_command(argv)?,
            "config" => self.config_command(argv)?,
            "info" => Reply::Raw(self.info(argv)),
            "object" => self.object_command(argv)?,
            "memory" => self.memory_command(argv)?,
            "debug" => return self.debug_command(argv),
            "ping" => self.ping_command(argv)?,
            _ => unreachable!("command table and dispatch disagree on {name}"),
        };
        Ok((reply, Effect::None))
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
