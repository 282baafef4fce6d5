//! Shared helpers for tests that need a real redis-server.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Tests that time a real redis-server against the wall clock, or that
/// load both cores, hold this while they run: the integration tests share
/// one binary and run in parallel, and a capture taken while two other
/// tests load the CPU is not the traffic the test means.
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A redis-server on a free loopback port, stopped when dropped.
pub struct RedisServer {
    child: Child,
    /// The port it listens on.
    pub port: u16,
}

/// Path of a file in the repository.
pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl RedisServer {
    /// Starts Debian's redis-server with persistence off and DEBUG enabled.
    /// Returns `None` (the test is skipped) when redis-server is not
    /// installed, unless the `CI` environment variable is set: then a missing
    /// server is a failure, not a skip.
    pub fn start(extra: &[&str]) -> Option<RedisServer> {
        let port = free_port();
        let mut args = vec![
            "--port".to_string(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            "".into(),
            "--appendonly".into(),
            "no".into(),
            "--enable-debug-command".into(),
            "local".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = match Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                if std::env::var_os("CI").is_some() {
                    panic!("CI is set but redis-server cannot start: {e}");
                }
                eprintln!("skipping: redis-server not available ({e})");
                return None;
            }
        };
        let server = RedisServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start listening on port {port}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Resp {
    /// `+...`
    Status(String),
    /// `-...`
    Error(String),
    /// `:n`
    Int(i64),
    /// `$n` (None for the null bulk string)
    Bulk(Option<Vec<u8>>),
    /// `*n`
    Array(Vec<Resp>),
}

/// A minimal synchronous RESP2 client for tests.
pub struct Conn {
    reader: std::io::BufReader<std::net::TcpStream>,
    writer: std::net::TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to 127.0.0.1:port.
    pub fn connect(port: u16) -> Conn {
        let s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_nodelay(true).unwrap();
        Conn {
            reader: std::io::BufReader::new(s.try_clone().unwrap()),
            writer: s,
            buf: Vec::new(),
        }
    }

    /// Sends one command and reads its reply.
    pub fn cmd(&mut self, args: &[&[u8]]) -> Resp {
        use std::io::Write;
        self.buf.clear();
        self.buf
            .extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            self.buf
                .extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            self.buf.extend_from_slice(a);
            self.buf.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&self.buf).unwrap();
        self.read()
    }

    /// Sends several commands in one write (a pipeline), then reads every
    /// reply.
    pub fn pipeline(&mut self, cmds: &[Vec<&[u8]>]) -> Vec<Resp> {
        use std::io::Write;
        self.buf.clear();
        for args in cmds {
            self.buf
                .extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in args {
                self.buf
                    .extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                self.buf.extend_from_slice(a);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
        self.writer.write_all(&self.buf).unwrap();
        cmds.iter().map(|_| self.read()).collect()
    }

    /// `cmd` with string arguments.
    pub fn cmd_str(&mut self, args: &[&str]) -> Resp {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.cmd(&a)
    }

    /// One field of `INFO <section>` as an integer.
    pub fn info_field(&mut self, section: &str, field: &str) -> i64 {
        let Resp::Bulk(Some(text)) = self.cmd_str(&["INFO", section]) else {
            panic!("INFO reply");
        };
        let text = String::from_utf8(text).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .unwrap_or_else(|| panic!("INFO has no {field}"))
            .trim()
            .parse()
            .unwrap()
    }

    fn line(&mut self) -> String {
        use std::io::BufRead;
        let mut l = String::new();
        self.reader.read_line(&mut l).unwrap();
        l.trim_end_matches("\r\n").to_string()
    }

    fn read(&mut self) -> Resp {
        use std::io::Read;
        let l = self.line();
        let (t, rest) = l.split_at(1);
        match t {
            "+" => Resp::Status(rest.into()),
            "-" => Resp::Error(rest.into()),
            ":" => Resp::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Resp::Bulk(None);
                }
                let mut b = vec![0; n as usize + 2];
                self.reader.read_exact(&mut b).unwrap();
                b.truncate(n as usize);
                Resp::Bulk(Some(b))
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                Resp::Array((0..n.max(0)).map(|_| self.read()).collect())
            }
            _ => panic!("bad RESP line {l:?}"),
        }
    }
}
