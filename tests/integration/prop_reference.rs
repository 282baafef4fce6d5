//! Random command sequences with random clock advances, run through the model
//! (`command::Server`, with its cron and active expiry) and through a small,
//! obviously-correct reference model kept here; every reply must agree.
//!
//! The reference has no hash tables, no active expiry and no memory: a key is
//! visible iff it is stored and `now <= expire`. Active expiry may only change
//! *when* memory is reclaimed, never a reply, so the two must agree exactly.

use proptest::prelude::*;
use std::collections::BTreeMap;
use ttlsim::command::Server;
use ttlsim::reply::Reply;
use ttlsim::store::Config;

const T0_MS: i64 = 1_700_000_000_000;

#[derive(Default)]
struct Reference {
    keys: BTreeMap<String, (Vec<u8>, Option<i64>)>,
}

impl Reference {
    fn live(&mut self, k: &str, now: i64) -> Option<&mut (Vec<u8>, Option<i64>)> {
        if matches!(self.keys.get(k), Some((_, Some(at))) if now > *at) {
            self.keys.remove(k);
        }
        self.keys.get_mut(k)
    }

    fn exec(&mut self, op: &Op, now: i64) -> Reply {
        let bulk = |v: &Vec<u8>| Reply::Bulk(v.clone());
        match op {
            Op::Get(k) => self.live(k, now).map_or(Reply::Nil, |(v, _)| bulk(v)),
            Op::Set {
                k,
                v,
                cond,
                ttl,
                get,
            } => {
                let old = self.live(k, now).map(|(v, t)| (v.clone(), *t));
                let exists = old.is_some();
                let reply_old = || old.as_ref().map_or(Reply::Nil, |(v, _)| bulk(v));
                if (*cond == 1 && exists) || (*cond == 2 && !exists) {
                    return if *get { reply_old() } else { Reply::Nil };
                }
                let expire = match ttl {
                    SetTtl::None => None,
                    SetTtl::Keep => old.as_ref().and_then(|(_, t)| *t),
                    SetTtl::Px(ms) => Some(now + ms),
                };
                let reply = if *get { reply_old() } else { Reply::ok() };
                self.keys
                    .insert(k.clone(), (v.clone().into_bytes(), expire));
                reply
            }
            Op::Expire { k, ms, cond } => {
                let when = now + ms;
                let Some((_, t)) = self.live(k, now) else {
                    return Reply::Int(0);
                };
                let ok = match cond {
                    1 => t.is_none(),
                    2 => t.is_some(),
                    3 => t.is_some_and(|t| when > t),
                    4 => t.is_none_or(|t| when < t),
                    _ => true,
                };
                if !ok {
                    return Reply::Int(0);
                }
                if when <= now {
                    self.keys.remove(k);
                } else {
                    *t = Some(when);
                }
                Reply::Int(1)
            }
            Op::Pttl(k) => Reply::Int(match self.live(k, now) {
                None => -2,
                Some((_, None)) => -1,
                Some((_, Some(t))) => (*t - now).max(0),
            }),
            Op::Ttl(k) => Reply::Int(match self.live(k, now) {
                None => -2,
                Some((_, None)) => -1,
                Some((_, Some(t))) => ((*t - now).max(0) + 500) / 1000,
            }),
            Op::Persist(k) => match self.live(k, now) {
                Some((_, t @ Some(_))) => {
                    *t = None;
                    Reply::Int(1)
                }
                _ => Reply::Int(0),
            },
            Op::Incr(k, by) => {
                let cur = match self.live(k, now) {
                    None => 0,
                    Some((v, _)) => match std::str::from_utf8(v).ok().and_then(canonical) {
                        Some(n) => n,
                        None => return Reply::err("value is not an integer or out of range"),
                    },
                };
                let Some(new) = cur.checked_add(*by) else {
                    return Reply::err("increment or decrement would overflow");
                };
                let ttl = self.live(k, now).and_then(|(_, t)| *t);
                self.keys
                    .insert(k.clone(), (new.to_string().into_bytes(), ttl));
                Reply::Int(new)
            }
            Op::Del(k) => Reply::Int(self.live(k, now).is_some() as i64).also(|_| {
                self.keys.remove(k);
            }),
            Op::Exists(k) => Reply::Int(self.live(k, now).is_some() as i64),
            Op::Getdel(k) => match self.live(k, now).map(|(v, _)| v.clone()) {
                Some(v) => {
                    self.keys.remove(k);
                    Reply::Bulk(v)
                }
                None => Reply::Nil,
            },
            Op::GetexPx(k, ms) => match self.live(k, now) {
                Some((v, t)) => {
                    let v = v.clone();
                    *t = Some(now + ms);
                    Reply::Bulk(v)
                }
                None => Reply::Nil,
            },
        }
    }
}

trait Also: Sized {
    fn also(self, f: impl FnOnce(&Self)) -> Self {
        f(&self);
        self
    }
}
impl Also for Reply {}

fn canonical(s: &str) -> Option<i64> {
    let n: i64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

#[derive(Clone, Debug)]
enum SetTtl {
    None,
    Keep,
    Px(i64),
}

#[derive(Clone, Debug)]
enum Op {
    Get(String),
    Set {
        k: String,
        v: String,
        cond: u8,
        ttl: SetTtl,
        get: bool,
    },
    Expire {
        k: String,
        ms: i64,
        cond: u8,
    },
    Pttl(String),
    Ttl(String),
    Persist(String),
    Incr(String, i64),
    Del(String),
    Exists(String),
    Getdel(String),
    GetexPx(String, i64),
}

impl Op {
    fn argv(&self) -> Vec<String> {
        let s = |x: &str| x.to_string();
        match self {
            Op::Get(k) => vec![s("GET"), k.clone()],
            Op::Set {
                k,
                v,
                cond,
                ttl,
                get,
            } => {
                let mut a = vec![s("SET"), k.clone(), v.clone()];
                match cond {
                    1 => a.push(s("NX")),
                    2 => a.push(s("XX")),
                    _ => {}
                }
                if *get {
                    a.push(s("GET"));
                }
                match ttl {
                    SetTtl::None => {}
                    SetTtl::Keep => a.push(s("KEEPTTL")),
                    SetTtl::Px(ms) => a.extend([s("PX"), ms.to_string()]),
                }
                a
            }
            Op::Expire { k, ms, cond } => {
                let mut a = vec![s("PEXPIRE"), k.clone(), ms.to_string()];
                if let Some(c) = ["", "NX", "XX", "GT", "LT"].get(*cond as usize) {
                    if !c.is_empty() {
                        a.push(s(c));
                    }
                }
                a
            }
            Op::Pttl(k) => vec![s("PTTL"), k.clone()],
            Op::Ttl(k) => vec![s("TTL"), k.clone()],
            Op::Persist(k) => vec![s("PERSIST"), k.clone()],
            Op::Incr(k, by) => vec![s("INCRBY"), k.clone(), by.to_string()],
            Op::Del(k) => vec![s("DEL"), k.clone()],
            Op::Exists(k) => vec![s("EXISTS"), k.clone()],
            Op::Getdel(k) => vec![s("GETDEL"), k.clone()],
            Op::GetexPx(k, ms) => vec![s("GETEX"), k.clone(), s("PX"), ms.to_string()],
        }
    }
}

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "c", "d", "e"]).prop_map(String::from)
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["x", "hello", "", "007", "-3", "9223372036854775807"])
            .prop_map(String::from),
        (0i64..20000).prop_map(|n| n.to_string()),
        (0usize..60).prop_map(|n| "v".repeat(n)),
    ]
}

/// Clock advances in ms: often whole multiples of 100 ms, so that keys are
/// looked up exactly at their expire time.
fn advance() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..1500, (0u64..15).prop_map(|n| n * 100)]
}

fn op() -> impl Strategy<Value = Op> {
    let ttl = prop_oneof![
        Just(SetTtl::None),
        Just(SetTtl::Keep),
        (1i64..4000).prop_map(SetTtl::Px),
        (1i64..40).prop_map(|n| SetTtl::Px(n * 100)),
    ];
    prop_oneof![
        4 => key().prop_map(Op::Get),
        4 => (key(), value(), 0u8..3, ttl, any::<bool>())
            .prop_map(|(k, v, cond, ttl, get)| Op::Set { k, v, cond, ttl, get }),
        3 => (key(), -1000i64..5000, 0u8..5).prop_map(|(k, ms, cond)| Op::Expire { k, ms, cond }),
        2 => key().prop_map(Op::Pttl),
        1 => key().prop_map(Op::Ttl),
        1 => key().prop_map(Op::Persist),
        2 => (key(), prop_oneof![Just(1i64), -5i64..5, Just(i64::MAX)]).prop_map(|(k, b)| Op::Incr(k, b)),
        1 => key().prop_map(Op::Del),
        1 => key().prop_map(Op::Exists),
        1 => key().prop_map(Op::Getdel),
        1 => (key(), 1i64..4000).prop_map(|(k, ms)| Op::GetexPx(k, ms)),
        1 => (key(), 1i64..40).prop_map(|(k, n)| Op::Expire { k, ms: n * 100, cond: 0 }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn model_agrees_with_reference(
        steps in prop::collection::vec((op(), advance()), 1..120),
        hz in prop::sample::select(vec![1u32, 10, 100]),
        seed in 0u64..1000,
    ) {
        let cfg = Config { hz, ..Config::default() };
        let mut server = Server::new(cfg, seed, T0_MS as u64 * 1000);
        let mut reference = Reference::default();
        let mut now_us = T0_MS as u64 * 1000;
        let mut next_cron = now_us;
        let period = server.store().cron_period();
        for (op, advance_ms) in &steps {
            // Advance the clock, running every cron tick that falls due.
            let target = now_us + advance_ms * 1000;
            while next_cron <= target {
                server.store_mut().cron(next_cron);
                next_cron += period;
            }
            now_us = target;
            let argv: Vec<Vec<u8>> = op.argv().into_iter().map(String::into_bytes).collect();
            let (got, _) = server.execute(&argv, now_us);
            let want = reference.exec(op, (now_us / 1000) as i64);
            prop_assert_eq!(&got, &want, "op {:?} at +{} ms", op, now_us / 1000 - T0_MS as u64);
            server.store_mut().before_sleep(now_us);
            prop_assert!(server.store().validate().is_ok(), "{:?}", server.store().validate());
        }
    }
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "SET",
            "GET",
            "GETEX",
            "GETDEL",
            "SETEX",
            "PSETEX",
            "SETNX",
            "MSET",
            "MGET",
            "DEL",
            "EXISTS",
            "TOUCH",
            "TYPE",
            "INCR",
            "INCRBY",
            "DECRBY",
            "EXPIRE",
            "PEXPIRE",
            "EXPIREAT",
            "PEXPIREAT",
            "TTL",
            "PTTL",
            "EXPIRETIME",
            "PERSIST",
            "CONFIG",
            "GET",
            "SET",
            "OBJECT",
            "MEMORY",
            "USAGE",
            "FREQ",
            "ENCODING",
            "IDLETIME",
            "DEBUG",
            "SLEEP",
            "INFO",
            "FLUSHALL",
            "DBSIZE",
            "EX",
            "PX",
            "EXAT",
            "PXAT",
            "NX",
            "XX",
            "GT",
            "LT",
            "KEEPTTL",
            "PERSIST",
            "hz",
            "maxmemory",
            "maxmemory-policy",
            "allkeys-lfu",
            "volatile-ttl",
            "fifo",
            "belady",
            "1kb",
            "0",
            "-1",
            "1",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "1e300",
            "k",
        ])
        .prop_map(String::from),
        "[a-z0-9 ]{0,6}",
        any::<i64>().prop_map(|n| n.to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// Any argument vector, however malformed, gets a reply: never a panic,
    /// and the store's invariants hold after every command.
    #[test]
    fn arbitrary_commands_never_panic(
        commands in prop::collection::vec(prop::collection::vec(word(), 1..7), 1..60),
    ) {
        let mut server = Server::new(Config::default(), 3, T0_MS as u64 * 1000);
        let mut now = T0_MS as u64 * 1000;
        for argv in &commands {
            let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.clone().into_bytes()).collect();
            let (_, effect) = server.execute(&argv, now);
            if let ttlsim::command::Effect::Sleep(us) = effect {
                now = now.saturating_add(us);
            }
            now += 1000;
            server.store_mut().cron(now);
            prop_assert!(server.store().validate().is_ok(), "{:?}", server.store().validate());
        }
    }
}
