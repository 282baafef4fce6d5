//! `used_memory` of the model against a real redis-server 7.0.15 (jemalloc
//! 5.3.0): keys `key:%08d` × {10k, 100k, 1M}, values of 10, 44, 45, 100 and
//! 1000 bytes and integers (shared and not), with and without a TTL, measured
//! by scripts/calibrate_memory.py into tests/data/memory_calibration.csv.
//! Every row's memory delta must match within 1%.

use crate::common::repo_path;
use ttlsim::store::{Config, Key, SetCond, SetTtl, SimValue, Store};

const T0_US: u64 = 1_700_000_000_000_000;

fn model_delta(keys: u64, kind: &str, len: u32, ttl: bool) -> u64 {
    let mut store: Store<SimValue> = Store::new(Config::default(), 1, T0_US);
    let before = store.used_memory();
    let expire = SetTtl::At((T0_US / 1000) as i64 + 100_000_000);
    for i in 0..keys {
        let value = match kind {
            "string" => SimValue::Blob(len),
            "shared_int" => SimValue::Int((i % 10_000) as i64),
            "int" => SimValue::Int(100_000 + i as i64),
            other => panic!("unknown value kind {other}"),
        };
        let key = Key { id: i, len: 12 };
        store.set(
            key,
            value,
            SetCond::Always,
            if ttl { expire } else { SetTtl::Clear },
            false,
        );
    }
    // Let the cron finish any incremental rehash, as time passes on a server.
    for tick in 1..=50 {
        store.cron(T0_US + tick * 100_000);
    }
    store.used_memory() - before
}

#[test]
fn used_memory_matches_real_redis_within_one_percent() {
    let text = std::fs::read_to_string(repo_path("tests/data/memory_calibration.csv")).unwrap();
    let mut worst: f64 = 0.0;
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let keys: u64 = f[0].parse().unwrap();
        let (kind, len, ttl) = (f[1], f[2].parse().unwrap(), f[3] == "1");
        let redis: u64 = f[6].parse().unwrap();
        let model = model_delta(keys, kind, len, ttl);
        let err = (model as f64 - redis as f64) / redis as f64;
        worst = worst.max(err.abs());
        assert!(
            err.abs() <= 0.01,
            "{keys} keys, {kind} {len} B, ttl {ttl}: model {model} B, redis {redis} B ({:+.3}%)",
            err * 100.0
        );
        rows += 1;
    }
    assert_eq!(rows, 42, "every calibration row checked");
    println!(
        "worst relative error over {rows} rows: {:.4}%",
        worst * 100.0
    );
}

/// APPEND on a real redis-server and in the model: the same `used_memory`
/// growth to the byte (sds greedy growth, the trim of stored values, the
/// RAW copy of an EMBSTR or integer value), and the same MEMORY USAGE.
#[test]
fn append_grows_memory_as_redis_does() {
    use crate::common::{Conn, RedisServer, Resp};
    let _exclusive = crate::common::exclusive();
    let Some(server) = RedisServer::start(&[]) else {
        return;
    };
    let mut c = Conn::connect(server.port);
    let mut model = ttlsim::command::Server::new(Config::default(), 1, T0_US);
    let mut script: Vec<Vec<Vec<u8>>> = Vec::new();
    let cmd = |a: &[&[u8]]| a.iter().map(|x| x.to_vec()).collect::<Vec<_>>();
    for i in 0..2000u32 {
        let k = format!("ap:{i:05}");
        let k = k.as_bytes();
        match i % 4 {
            // A stored 50-byte value (trimmed: no room), then growth twice.
            0 => {
                script.push(cmd(&[b"SET", k, &[b'x'; 50]]));
                script.push(cmd(&[b"APPEND", k, b"y"]));
                script.push(cmd(&[b"APPEND", k, &[b'z'; 300]]));
            }
            // A 300-byte value with 14 spare bytes: 14 fit, one more grows.
            1 => {
                script.push(cmd(&[b"SET", k, &[b'v'; 300]]));
                script.push(cmd(&[b"APPEND", k, &[b'w'; 14]]));
                script.push(cmd(&[b"APPEND", k, b"!"]));
            }
            // A new key, EMBSTR, then unshared to RAW and grown.
            2 => {
                script.push(cmd(&[b"APPEND", k, b"hello"]));
                script.push(cmd(&[b"APPEND", k, b" world"]));
            }
            // An integer, then digits appended.
            _ => {
                script.push(cmd(&[b"APPEND", k, b"12"]));
                script.push(cmd(&[b"APPEND", k, &[b'3'; 40]]));
            }
        }
    }
    // Every command once first, on both: Redis allocates a command's
    // latency histogram on its first call, and the first key the dict's
    // first table.
    for a in [
        &["SET", "w", "1"][..],
        &["APPEND", "w", "2"],
        &["DEL", "w"],
        &["INFO", "memory"],
    ] {
        c.cmd_str(a);
        let argv: Vec<Vec<u8>> = a.iter().map(|x| x.as_bytes().to_vec()).collect();
        model.execute(&argv, T0_US);
    }
    // Keys and tables alone: less the clients' buffers, after a few cron
    // ticks (which finish the dict's rehash and refresh the clients' figure).
    let used = |c: &mut Conn| {
        std::thread::sleep(std::time::Duration::from_millis(400));
        c.info_field("memory", "used_memory") - c.info_field("memory", "mem_clients_normal")
    };
    let real_before = used(&mut c);
    let model_before = model.store().used_memory();
    for argv in &script {
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        let real = c.cmd(&refs);
        let (ours, _) = model.execute(argv, T0_US);
        if let (Resp::Int(r), ttlsim::reply::Reply::Int(o)) = (&real, &ours) {
            assert_eq!(r, o, "{:?}", String::from_utf8_lossy(&argv[1]));
        }
    }
    let real_delta = used(&mut c) - real_before;
    for tick in 1..=50 {
        model.store_mut().cron(T0_US + tick * 100_000);
    }
    let model_delta = model.store().used_memory() - model_before;
    assert_eq!(model_delta as i64, real_delta, "used_memory growth");
    for i in [0u32, 1, 2, 3] {
        let k = format!("ap:{i:05}");
        let Resp::Int(real) = c.cmd_str(&["MEMORY", "USAGE", &k]) else {
            panic!("MEMORY USAGE reply")
        };
        let argv = cmd(&[b"MEMORY", b"USAGE", k.as_bytes()]);
        let (ours, _) = model.execute(&argv, T0_US);
        assert_eq!(ours, ttlsim::reply::Reply::Int(real), "MEMORY USAGE {k}");
    }
    drop(server);
}
