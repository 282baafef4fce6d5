//! Command replies and TTL edge cases, checked against Redis 7.0's documented
//! and observed replies (docs/redis-facts.md §7).

use super::*;

const T0: u64 = 1_700_000_000_000; // ms

struct R {
    s: Server,
    now: Micros,
}

impl R {
    fn new() -> R {
        R {
            s: Server::new(Config::default(), 7, T0 * 1000),
            now: T0 * 1000,
        }
    }
    fn cmd(&mut self, line: &str) -> String {
        let argv = crate::shell::split_args(line.as_bytes()).expect("balanced quotes");
        let (reply, effect) = self.s.execute(&argv, self.now);
        if let Effect::Sleep(us) = effect {
            self.now += us;
        }
        reply.to_cli().trim_end_matches('\n').to_string()
    }
    fn advance_ms(&mut self, ms: u64) {
        self.now += ms * 1000;
    }
}

#[test]
fn set_and_get_basics() {
    let mut r = R::new();
    assert_eq!(r.cmd("GET k"), "(nil)");
    assert_eq!(r.cmd("SET k v"), "OK");
    assert_eq!(r.cmd("GET k"), "\"v\"");
    assert_eq!(r.cmd("SET k \"\""), "OK");
    assert_eq!(r.cmd("GET k"), "\"\"");
    assert_eq!(r.cmd("TYPE k"), "string");
    assert_eq!(r.cmd("TYPE nope"), "none");
    assert_eq!(r.cmd("DBSIZE"), "(integer) 1");
}

#[test]
fn set_options_and_syntax_errors() {
    let mut r = R::new();
    assert_eq!(r.cmd("SET k v NX"), "OK");
    assert_eq!(r.cmd("SET k v NX"), "(nil)");
    assert_eq!(r.cmd("SET k w XX"), "OK");
    assert_eq!(r.cmd("SET j w XX"), "(nil)");
    assert_eq!(r.cmd("SET k v NX XX"), "(error) ERR syntax error");
    assert_eq!(r.cmd("SET k v EX 10 PX 100"), "(error) ERR syntax error");
    assert_eq!(r.cmd("SET k v EX"), "(error) ERR syntax error");
    assert_eq!(r.cmd("SET k v KEEPTTL EX 1"), "(error) ERR syntax error");
    assert_eq!(r.cmd("SET k v FOO"), "(error) ERR syntax error");
    assert_eq!(r.cmd("SET k v PERSIST"), "(error) ERR syntax error");
    // Repeating the same option is accepted; the last value wins.
    assert_eq!(r.cmd("SET k v NX NX"), "(nil)");
    assert_eq!(r.cmd("SET k v EX 10 EX 20"), "OK");
    assert_eq!(r.cmd("TTL k"), "(integer) 20");
    assert_eq!(r.cmd("set k v ex 30 get"), "\"v\"");
    assert_eq!(r.cmd("TTL k"), "(integer) 30");
}

#[test]
fn set_expire_validation() {
    let mut r = R::new();
    assert_eq!(
        r.cmd("SET k v EX 0"),
        "(error) ERR invalid expire time in 'set' command"
    );
    assert_eq!(
        r.cmd("SET k v PX -5"),
        "(error) ERR invalid expire time in 'set' command"
    );
    assert_eq!(
        r.cmd("SET k v EX abc"),
        "(error) ERR value is not an integer or out of range"
    );
    assert_eq!(
        r.cmd("SET k v EX 9223372036854775807"),
        "(error) ERR invalid expire time in 'set' command"
    );
    assert_eq!(
        r.cmd("SET k v PX 9223372036854775807"),
        "(error) ERR invalid expire time in 'set' command"
    );
    assert_eq!(
        r.cmd("SETEX k 0 v"),
        "(error) ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        r.cmd("PSETEX k -1 v"),
        "(error) ERR invalid expire time in 'psetex' command"
    );
    // GETEX looks the key up before validating the time (7.0.15).
    assert_eq!(r.cmd("GETEX k EX 0"), "(nil)");
    r.cmd("SET g v");
    assert_eq!(
        r.cmd("GETEX g EX 0"),
        "(error) ERR invalid expire time in 'getex' command"
    );
    r.cmd("DEL g");
    assert_eq!(r.cmd("DBSIZE"), "(integer) 0");
}

#[test]
fn set_with_past_absolute_time_stores_then_expires() {
    let mut r = R::new();
    assert_eq!(r.cmd("SET k v PXAT 1"), "OK");
    assert_eq!(r.cmd("DBSIZE"), "(integer) 1");
    assert_eq!(r.cmd("GET k"), "(nil)");
    assert_eq!(r.s.store().stats().expired_keys, 1);
}

#[test]
fn keepttl_and_plain_set_clearing_ttl() {
    let mut r = R::new();
    r.cmd("SET k v EX 100");
    assert_eq!(r.cmd("SET k w KEEPTTL"), "OK");
    assert_eq!(r.cmd("TTL k"), "(integer) 100");
    assert_eq!(r.cmd("SET k x"), "OK");
    assert_eq!(r.cmd("TTL k"), "(integer) -1");
    assert_eq!(r.cmd("SETEX k 50 v"), "OK");
    assert_eq!(r.cmd("TTL k"), "(integer) 50");
    assert_eq!(r.cmd("SETNX k z"), "(integer) 0");
    assert_eq!(r.cmd("SETNX n z"), "(integer) 1");
}

#[test]
fn nx_with_get() {
    let mut r = R::new();
    assert_eq!(r.cmd("SET k v NX GET"), "(nil)");
    assert_eq!(r.cmd("GET k"), "\"v\"");
    assert_eq!(r.cmd("SET k w NX GET"), "\"v\"");
    assert_eq!(r.cmd("GET k"), "\"v\"");
    assert_eq!(r.cmd("SET k w XX GET"), "\"v\"");
    assert_eq!(r.cmd("GET k"), "\"w\"");
}

#[test]
fn ttl_rounding_of_milliseconds() {
    let mut r = R::new();
    r.cmd("SET a v PX 400");
    r.cmd("SET b v PX 1300");
    r.cmd("SET c v PX 1700");
    r.cmd("SET d v PX 1500");
    assert_eq!(r.cmd("TTL a"), "(integer) 0");
    assert_eq!(r.cmd("TTL b"), "(integer) 1");
    assert_eq!(r.cmd("TTL c"), "(integer) 2");
    assert_eq!(r.cmd("TTL d"), "(integer) 2");
    assert_eq!(r.cmd("PTTL c"), "(integer) 1700");
    let at = T0 + 10_499;
    r.cmd(&format!("SET e v PXAT {at}"));
    assert_eq!(
        r.cmd("EXPIRETIME e"),
        format!("(integer) {}", (T0 + 10_000) / 1000)
    );
    r.cmd(&format!("SET f v PXAT {}", T0 + 10_500));
    assert_eq!(
        r.cmd("EXPIRETIME f"),
        format!("(integer) {}", (T0 + 11_000) / 1000)
    );
    assert_eq!(r.cmd("PEXPIRETIME f"), format!("(integer) {}", T0 + 10_500));
    assert_eq!(r.cmd("TTL nope"), "(integer) -2");
    r.cmd("SET p v");
    assert_eq!(r.cmd("PTTL p"), "(integer) -1");
    assert_eq!(r.cmd("EXPIRETIME p"), "(integer) -1");
}

#[test]
fn expiry_is_strictly_after_the_expire_time() {
    let mut r = R::new();
    r.cmd("SET k v PX 100");
    r.advance_ms(100);
    assert_eq!(r.cmd("GET k"), "\"v\"", "now == expire time: still alive");
    r.advance_ms(1);
    assert_eq!(r.cmd("GET k"), "(nil)");
}

#[test]
fn expire_conditions() {
    let mut r = R::new();
    assert_eq!(r.cmd("EXPIRE nope 10"), "(integer) 0");
    r.cmd("SET k v");
    // GT against no TTL: no TTL counts as infinite, so GT fails.
    assert_eq!(r.cmd("EXPIRE k 100 GT"), "(integer) 0");
    assert_eq!(r.cmd("EXPIRE k 100 XX"), "(integer) 0");
    // LT against no TTL succeeds.
    assert_eq!(r.cmd("EXPIRE k 100 LT"), "(integer) 1");
    assert_eq!(r.cmd("EXPIRE k 50 NX"), "(integer) 0");
    assert_eq!(r.cmd("EXPIRE k 200 GT"), "(integer) 1");
    assert_eq!(r.cmd("TTL k"), "(integer) 200");
    assert_eq!(r.cmd("EXPIRE k 100 GT"), "(integer) 0");
    assert_eq!(r.cmd("EXPIRE k 300 LT"), "(integer) 0");
    assert_eq!(r.cmd("EXPIRE k 150 XX LT"), "(integer) 1");
    assert_eq!(r.cmd("TTL k"), "(integer) 150");
    assert_eq!(
        r.cmd("EXPIRE k 1 NX XX"),
        "(error) ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        r.cmd("EXPIRE k 1 GT LT"),
        "(error) ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        r.cmd("EXPIRE k 1 FOO"),
        "(error) ERR Unsupported option FOO"
    );
    assert_eq!(
        r.cmd("EXPIRE k abc"),
        "(error) ERR value is not an integer or out of range"
    );
    assert_eq!(
        r.cmd("EXPIRE k 9223372036854775807"),
        "(error) ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        r.cmd("PEXPIRE k 9223372036854775807"),
        "(error) ERR invalid expire time in 'pexpire' command"
    );
    assert_eq!(r.cmd("PEXPIREAT k 9223372036854775807"), "(integer) 1");
}

#[test]
fn expire_in_the_past_deletes_without_counting_as_expired() {
    let mut r = R::new();
    r.cmd("SET k v");
    assert_eq!(r.cmd("EXPIRE k 0"), "(integer) 1");
    assert_eq!(r.cmd("EXISTS k"), "(integer) 0");
    r.cmd("SET k v");
    assert_eq!(r.cmd("EXPIRE k -10"), "(integer) 1");
    r.cmd("SET k v");
    assert_eq!(r.cmd("PEXPIREAT k 1"), "(integer) 1");
    r.cmd("SET k v");
    assert_eq!(r.cmd("EXPIREAT k 1"), "(integer) 1");
    assert_eq!(r.cmd("DBSIZE"), "(integer) 0");
    assert_eq!(r.s.store().stats().expired_keys, 0);
}

#[test]
fn persist() {
    let mut r = R::new();
    assert_eq!(r.cmd("PERSIST k"), "(integer) 0");
    r.cmd("SET k v EX 10");
    assert_eq!(r.cmd("PERSIST k"), "(integer) 1");
    assert_eq!(r.cmd("PERSIST k"), "(integer) 0");
    assert_eq!(r.cmd("TTL k"), "(integer) -1");
}

#[test]
fn incr_family() {
    let mut r = R::new();
    assert_eq!(r.cmd("INCR c"), "(integer) 1");
    assert_eq!(r.cmd("INCRBY c 10"), "(integer) 11");
    assert_eq!(r.cmd("DECR c"), "(integer) 10");
    assert_eq!(r.cmd("DECRBY c 20"), "(integer) -10");
    assert_eq!(r.cmd("GET c"), "\"-10\"");
    r.cmd("SET s abc");
    assert_eq!(
        r.cmd("INCR s"),
        "(error) ERR value is not an integer or out of range"
    );
    r.cmd("SET s \" 1\"");
    assert_eq!(
        r.cmd("INCR s"),
        "(error) ERR value is not an integer or out of range"
    );
    assert_eq!(
        r.cmd("INCRBY c x"),
        "(error) ERR value is not an integer or out of range"
    );
    r.cmd("SET m 9223372036854775807");
    assert_eq!(
        r.cmd("INCR m"),
        "(error) ERR increment or decrement would overflow"
    );
    assert_eq!(
        r.cmd("DECRBY c -9223372036854775808"),
        "(error) ERR decrement would overflow"
    );
    // INCR keeps the TTL.
    r.cmd("SET t 5 EX 100");
    assert_eq!(r.cmd("INCR t"), "(integer) 6");
    assert_eq!(r.cmd("TTL t"), "(integer) 100");
}

#[test]
fn getex_getdel() {
    let mut r = R::new();
    assert_eq!(r.cmd("GETEX k"), "(nil)");
    r.cmd("SET k v");
    assert_eq!(r.cmd("GETEX k EX 100"), "\"v\"");
    assert_eq!(r.cmd("TTL k"), "(integer) 100");
    assert_eq!(r.cmd("GETEX k PERSIST"), "\"v\"");
    assert_eq!(r.cmd("TTL k"), "(integer) -1");
    assert_eq!(r.cmd("GETEX k PX 100 PERSIST"), "(error) ERR syntax error");
    assert_eq!(r.cmd("GETEX k NX"), "(error) ERR syntax error");
    assert_eq!(r.cmd("GETEX k EXAT 1"), "\"v\"");
    assert_eq!(r.cmd("EXISTS k"), "(integer) 0");
    r.cmd("SET k v");
    assert_eq!(r.cmd("GETDEL k"), "\"v\"");
    assert_eq!(r.cmd("GETDEL k"), "(nil)");
}

#[test]
fn multi_key_commands() {
    let mut r = R::new();
    assert_eq!(r.cmd("MSET a 1 b 2"), "OK");
    assert_eq!(
        r.cmd("MSET a 1 b"),
        "(error) ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(r.cmd("MGET a b c"), "1) \"1\"\n2) \"2\"\n3) (nil)");
    assert_eq!(r.cmd("EXISTS a a b c"), "(integer) 3");
    assert_eq!(r.cmd("TOUCH a c"), "(integer) 1");
    assert_eq!(r.cmd("DEL a c"), "(integer) 1");
    assert_eq!(r.cmd("UNLINK b"), "(integer) 1");
    assert_eq!(r.cmd("FLUSHALL"), "OK");
    assert_eq!(r.cmd("FLUSHALL bogus"), "(error) ERR syntax error");
}

#[test]
fn unknown_commands_and_arity() {
    let mut r = R::new();
    assert_eq!(
        r.cmd("FOO a b"),
        "(error) ERR unknown command 'FOO', with args beginning with: 'a' 'b' "
    );
    assert_eq!(
        r.cmd("FOO"),
        "(error) ERR unknown command 'FOO', with args beginning with: "
    );
    assert_eq!(
        r.cmd("GET"),
        "(error) ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        r.cmd("get a b"),
        "(error) ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        r.cmd("SETEX k 10"),
        "(error) ERR wrong number of arguments for 'setex' command"
    );
    assert_eq!(
        r.cmd("CONFIG"),
        "(error) ERR wrong number of arguments for 'config' command"
    );
    assert_eq!(
        r.cmd("CONFIG FOO"),
        "(error) ERR unknown subcommand 'FOO'. Try CONFIG HELP."
    );
    assert_eq!(
        r.cmd("CONFIG GET"),
        "(error) ERR wrong number of arguments for 'config|get' command"
    );
}

#[test]
fn config_get_set_resetstat() {
    let mut r = R::new();
    assert_eq!(r.cmd("CONFIG GET hz"), "1) \"hz\"\n2) \"10\"");
    assert_eq!(r.cmd("CONFIG SET hz 100"), "OK");
    assert_eq!(r.cmd("CONFIG GET hz"), "1) \"hz\"\n2) \"100\"");
    assert_eq!(r.cmd("CONFIG SET active-expire-effort 10"), "OK");
    assert_eq!(
        r.cmd("CONFIG SET active-expire-effort 11"),
        "(error) ERR CONFIG SET failed (possibly related to argument 'active-expire-effort') - argument must be between 1 and 10 inclusive"
    );
    assert_eq!(
        r.cmd("CONFIG SET hz abc"),
        "(error) ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"
    );
    assert_eq!(
        r.cmd("CONFIG SET nosuch 1"),
        "(error) ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    );
    assert_eq!(r.cmd("CONFIG GET nosuch"), "(empty array)");
    r.cmd("GET miss");
    assert_eq!(r.s.store().stats().keyspace_misses, 1);
    assert_eq!(r.cmd("CONFIG RESETSTAT"), "OK");
    assert_eq!(r.s.store().stats().keyspace_misses, 0);
}

#[test]
fn hits_and_misses_count_only_read_lookups() {
    let mut r = R::new();
    r.cmd("SET k v"); // write lookup: no stats
    r.cmd("GET k"); // hit
    r.cmd("GET x"); // miss
    r.cmd("EXISTS k x"); // hit + miss
    r.cmd("TTL x"); // miss
    r.cmd("EXPIRE k 100"); // write lookup
    r.cmd("PERSIST k"); // write lookup
    r.cmd("INCR n"); // write lookup
    let s = r.s.store().stats();
    assert_eq!((s.keyspace_hits, s.keyspace_misses), (2, 3));
}

#[test]
fn lazy_expiry_counts() {
    let mut r = R::new();
    r.cmd("SET a v PX 10");
    r.cmd("SET b v PX 10");
    r.cmd("SET c v PX 10");
    r.advance_ms(20);
    assert_eq!(
        r.cmd("DBSIZE"),
        "(integer) 3",
        "expired keys still resident"
    );
    assert_eq!(r.cmd("EXISTS a"), "(integer) 0");
    assert_eq!(r.cmd("TTL b"), "(integer) -2");
    assert_eq!(
        r.cmd("DEL c"),
        "(integer) 0",
        "DEL of an expired key expires it"
    );
    let s = r.s.store().stats();
    assert_eq!(s.expired_keys, 3);
    assert_eq!(s.keyspace_misses, 2);
    assert_eq!(r.cmd("DBSIZE"), "(integer) 0");
}

#[test]
fn info_sections_have_redis_field_names() {
    let mut r = R::new();
    r.cmd("SET k v EX 100");
    let info = r.cmd("INFO");
    for field in [
        "used_memory:",
        "keyspace_hits:",
        "keyspace_misses:",
        "expired_keys:",
        "expired_stale_perc:",
        "expired_time_cap_reached_count:",
        "expire_cycle_cpu_milliseconds:",
        "evicted_keys:",
        "db0:keys=1,expires=1,avg_ttl=",
    ] {
        assert!(info.contains(field), "INFO lacks {field}: {info}");
    }
    assert!(!r.cmd("INFO keyspace").contains("used_memory"));
}

#[test]
fn object_and_memory_usage() {
    let mut r = R::new();
    r.cmd("SET n 123");
    r.cmd("SET big 123456789012");
    r.cmd("SET s hello");
    r.cmd(&format!("SET r {}", "x".repeat(45)));
    assert_eq!(r.cmd("OBJECT ENCODING n"), "\"int\"");
    assert_eq!(r.cmd("OBJECT ENCODING big"), "\"int\"");
    assert_eq!(r.cmd("OBJECT ENCODING s"), "\"embstr\"");
    assert_eq!(r.cmd("OBJECT ENCODING r"), "\"raw\"");
    assert_eq!(r.cmd("OBJECT ENCODING nope"), "(nil)");
    assert!(r
        .cmd("OBJECT FREQ s")
        .starts_with("(error) ERR An LFU maxmemory policy is not selected"));
    // Replies of redis-server 7.0.15 for the same keys: robj + sds class
    // (or embstr class) + the key's sds class + 24.
    assert_eq!(r.cmd("MEMORY USAGE r"), "(integer) 112");
    assert_eq!(r.cmd("MEMORY USAGE s"), "(integer) 64");
    assert_eq!(r.cmd("MEMORY USAGE n"), "(integer) 48");
    assert_eq!(r.cmd("MEMORY USAGE big"), "(integer) 48");
    assert_eq!(r.cmd("MEMORY USAGE r SAMPLES 5"), "(integer) 112");
    assert_eq!(r.cmd("MEMORY USAGE r FOO 5"), "(error) ERR syntax error");
    assert_eq!(r.cmd("MEMORY USAGE nope"), "(nil)");
    assert_eq!(
        r.cmd("DEBUG FOO"),
        "(error) ERR unknown subcommand or wrong number of arguments for 'FOO'. Try DEBUG HELP."
    );
    assert_eq!(
        r.cmd("OBJECT FOO k"),
        "(error) ERR unknown subcommand 'FOO'. Try OBJECT HELP."
    );
}

#[test]
fn lfu_counter_after_set_and_get() {
    let mut r = R::new();
    r.cmd("CONFIG SET maxmemory-policy allkeys-lfu");
    r.cmd("SET k v");
    assert_eq!(r.cmd("OBJECT FREQ k"), "(integer) 5");
    r.cmd("GET k");
    assert_eq!(r.cmd("OBJECT FREQ k"), "(integer) 6");
    assert!(r
        .cmd("OBJECT IDLETIME k")
        .starts_with("(error) ERR An LFU maxmemory policy is selected"));
}

#[test]
fn idletime_has_one_second_resolution_from_the_cron_clock() {
    let mut r = R::new();
    r.cmd("SET k v");
    r.advance_ms(5_000);
    // The LRU clock only moves when the cron runs.
    assert_eq!(r.cmd("OBJECT IDLETIME k"), "(integer) 0");
    r.s.store_mut().cron(r.now);
    assert_eq!(r.cmd("OBJECT IDLETIME k"), "(integer) 5");
}

#[test]
fn debug_sleep_never_overflows_the_clock() {
    let mut r = R::new();
    assert_eq!(r.cmd("DEBUG SLEEP 1e300"), "OK");
    assert_eq!(r.cmd("DEBUG SLEEP 1e300"), "OK");
    assert_eq!(r.cmd("DEBUG SLEEP nan"), "OK");
    assert_eq!(r.cmd("SET k v EX 10"), "OK");
    assert_eq!(r.cmd("TTL k"), "(integer) 10");
}
