//! `ttlsim shell`: Redis commands in redis-cli syntax, one per line, run on
//! the model and printed as `redis-cli --no-raw` prints them when its input
//! is a pipe. `DEBUG SLEEP` advances the simulated clock (a real server is
//! blocked that long), so one script runs unchanged against both.

use crate::command::{Effect, Server};
use crate::reply::Reply;
use crate::store::{Config, Micros};
use std::io::{BufRead, Write};

/// `sdssplitargs`: splits a line as redis-cli does (double quotes with
/// `\n \r \t \b \a \xHH` escapes, single quotes with `\'`; a closing quote
/// must be followed by a space or the end). `None` means unbalanced quotes.
/// A NUL byte ends the line, as it ends redis-cli's C string.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = &line[..memchr::memchr(0, line).unwrap_or(line.len())];
    let mut args = Vec::new();
    let mut p = 0;
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    // A closing quote must be followed by a space or the end of the line.
    let closes_ok = |i: usize| at(i + 1) == 0 || at(i + 1).is_ascii_whitespace();
    loop {
        while p < line.len() && at(p).is_ascii_whitespace() {
            p += 1;
        }
        if p >= line.len() {
            return Some(args);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            let c = at(p);
            if inq {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && at(p + 2).is_ascii_hexdigit()
                    && at(p + 3).is_ascii_hexdigit()
                {
                    let hex = std::str::from_utf8(&line[p + 2..p + 4]).ok()?;
                    cur.push(u8::from_str_radix(hex, 16).ok()?);
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if !closes_ok(p) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if !closes_ok(p) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            if p < line.len() {
                p += 1;
            }
        }
        args.push(cur);
    }
}

/// A shell session: a server and its simulated clock.
pub struct Shell {
    server: Server,
    now: Micros,
    next_cron: Micros,
    /// Inside MULTI: the queued commands, and whether one was refused.
    tx: Option<(Vec<Vec<Vec<u8>>>, bool)>,
}

/// Commands of Redis types other than strings (hashes, lists, sets, sorted
/// sets, streams, HyperLogLogs, bitmaps, geo), which ttlsim does not model.
const OTHER_TYPES: &[&str] = &[
    "hset",
    "hget",
    "hmset",
    "hmget",
    "hgetall",
    "hdel",
    "hincrby",
    "hkeys",
    "hvals",
    "hlen",
    "hexists",
    "hsetnx",
    "lpush",
    "rpush",
    "lpop",
    "rpop",
    "lrange",
    "llen",
    "lindex",
    "lset",
    "lrem",
    "ltrim",
    "sadd",
    "srem",
    "smembers",
    "sismember",
    "scard",
    "spop",
    "zadd",
    "zrem",
    "zrange",
    "zscore",
    "zincrby",
    "zcard",
    "zrank",
    "zrangebyscore",
    "xadd",
    "xlen",
    "xrange",
    "pfadd",
    "pfcount",
    "setbit",
    "getbit",
    "bitcount",
    "geoadd",
];

impl Shell {
    /// A session whose clock starts at `start_ms` (Unix ms), at most
    /// [`MAX_CLOCK_US`](crate::limits::MAX_CLOCK_US) / 1000.
    pub fn new(cfg: Config, seed: u64, start_ms: u64) -> Self {
        let now = start_ms
            .saturating_mul(1000)
            .min(crate::limits::MAX_CLOCK_US);
        let server = Server::new(cfg, seed, now);
        let next_cron = now.saturating_add(server.store().cron_period());
        Shell {
            server,
            now,
            next_cron,
            tx: None,
        }
    }

    /// The server.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Runs one input line and returns what redis-cli would print for it
    /// (empty for blank lines).
    pub fn line(&mut self, line: &[u8]) -> String {
        let mut out = Vec::new();
        self.line_to(line, &mut out)
            .expect("writing to a Vec cannot fail");
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Runs one input line and writes what redis-cli would print for it to
    /// `out`, reply by reply (so `2000000000 PING` streams).
    pub fn line_to(&mut self, line: &[u8], out: &mut impl Write) -> std::io::Result<()> {
        let Some(mut argv) = split_args(line) else {
            return out.write_all(b"Invalid argument(s)\n");
        };
        if argv.is_empty() {
            return Ok(());
        }
        // redis-cli's repeat prefix: "3 INCR k" runs INCR three times.
        let mut repeat = 1;
        if argv.len() > 1 {
            if let Ok(n) = std::str::from_utf8(&argv[0]).unwrap_or("").parse::<i64>() {
                if n <= 0 {
                    return out.write_all(b"Invalid redis-cli repeat command option value.\n");
                }
                repeat = n;
                argv.remove(0);
            }
        }
        for _ in 0..repeat {
            let reply = self.transaction(&argv);
            out.write_all(reply.to_cli().as_bytes())?;
        }
        Ok(())
    }

    /// MULTI, EXEC and DISCARD around [`Shell::command`]: inside MULTI a
    /// command that passes Redis's checks is queued (`QUEUED`), one that
    /// fails them makes EXEC abort, as `processCommand` does.
    fn transaction(&mut self, argv: &[Vec<u8>]) -> Reply {
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        let arity = |n: usize| {
            (argv.len() != n)
                .then(|| Reply::err(format!("wrong number of arguments for '{name}' command")))
        };
        match (name.as_str(), self.tx.as_mut()) {
            ("multi", Some(_)) => Reply::err("MULTI calls can not be nested"),
            ("multi", None) => arity(1).unwrap_or_else(|| {
                self.tx = Some((Vec::new(), false));
                Reply::ok()
            }),
            ("exec" | "discard", None) => {
                Reply::err(format!("{} without MULTI", name.to_ascii_uppercase()))
            }
            ("discard", Some(_)) => arity(1).unwrap_or_else(|| {
                self.tx = None;
                Reply::ok()
            }),
            ("exec", Some(_)) => {
                let (queued, failed) = self.tx.take().expect("inside MULTI");
                // A refused EXEC discards the transaction (execCommandAbort).
                if let Some(Reply::Error(e)) = arity(1) {
                    return Reply::Error(format!(
                        "EXECABORT Transaction discarded because of: {}",
                        e.trim_start_matches("ERR ")
                    ));
                }
                if failed {
                    return Reply::Error(
                        "EXECABORT Transaction discarded because of previous errors.".into(),
                    );
                }
                Reply::Array(queued.iter().map(|c| self.command(c)).collect())
            }
            (_, Some((queued, failed))) => {
                let check = if name == "time" {
                    arity(1)
                } else {
                    crate::command::precheck(argv)
                };
                match check {
                    Some(e) => {
                        *failed = true;
                        e
                    }
                    None => {
                        queued.push(argv.to_vec());
                        Reply::Status("QUEUED".into())
                    }
                }
            }
            (_, None) => self.command(argv),
        }
    }

    /// Runs one command on the server at the simulated time; TIME shows the
    /// simulated clock. A command of a type ttlsim lacks gets Redis's reply
    /// where it can be known (WRONGTYPE on a string key), and a note on
    /// stderr.
    fn command(&mut self, argv: &[Vec<u8>]) -> Reply {
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        let reply = if name == "time" {
            if argv.len() != 1 {
                Reply::err("wrong number of arguments for 'time' command")
            } else {
                Reply::Array(vec![
                    Reply::bulk((self.now / 1_000_000).to_string()),
                    Reply::bulk((self.now % 1_000_000).to_string()),
                ])
            }
        } else if OTHER_TYPES.contains(&name.as_str()) {
            eprintln!(
                "ttlsim: {} works on a type ttlsim does not model; ttlsim models strings only",
                name.to_ascii_uppercase()
            );
            let is_string = argv.len() > 1 && {
                let ty = vec![b"TYPE".to_vec(), argv[1].clone()];
                self.server.execute(&ty, self.now).0 == Reply::Status("string".into())
            };
            if is_string {
                Reply::Error(
                    "WRONGTYPE Operation against a key holding the wrong kind of value".into(),
                )
            } else {
                self.server.execute(argv, self.now).0
            }
        } else {
            let (reply, effect) = self.server.execute(argv, self.now);
            if let Effect::Sleep(us) = effect {
                // The clock stops at its ceiling rather than wrap.
                self.now = self.now.saturating_add(us).min(crate::limits::MAX_CLOCK_US);
            }
            reply
        };
        self.after_command();
        reply
    }

    /// Between commands: the cron fires once if a tick is due (after a
    /// blocking sleep a real server runs the overdue timer once), then
    /// `beforeSleep`'s fast cycle.
    fn after_command(&mut self) {
        let store = self.server.store_mut();
        if self.now >= self.next_cron {
            store.cron(self.now);
            self.next_cron = self.now.saturating_add(store.cron_period());
        }
        store.before_sleep(self.now);
    }

    /// Runs every line of `input`, writing replies to `out`. Stops at `quit`
    /// or `exit`, as redis-cli does. A line longer than
    /// [`MAX_SHELL_LINE`](crate::limits::MAX_SHELL_LINE) is answered with an
    /// error and skipped without being held in memory.
    pub fn run(&mut self, mut input: impl BufRead, mut out: impl Write) -> std::io::Result<()> {
        use crate::limits::{read_line_bounded, Line, MAX_SHELL_LINE};
        let mut line = Vec::new();
        loop {
            match read_line_bounded(&mut input, &mut line, MAX_SHELL_LINE)? {
                Line::End => break,
                Line::TooLong => {
                    writeln!(
                        out,
                        "(error) ERR Protocol error: too big inline request (a line is limited to {MAX_SHELL_LINE} bytes, as in Redis)"
                    )?;
                    continue;
                }
                Line::Read => {}
            }
            let trimmed = String::from_utf8_lossy(&line).trim().to_ascii_lowercase();
            if trimmed == "quit" || trimmed == "exit" {
                break;
            }
            self.line_to(&line, &mut out)?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn splits_like_sdssplitargs() {
        assert_eq!(split("SET k v").unwrap(), ["SET", "k", "v"]);
        assert_eq!(split("  a   b ").unwrap(), ["a", "b"]);
        assert_eq!(
            split(r#"SET k "a b\n\x41""#).unwrap(),
            ["SET", "k", "a b\nA"]
        );
        assert_eq!(split(r"SET k 'it\'s'").unwrap(), ["SET", "k", "it's"]);
        assert_eq!(split(r#"SET k """#).unwrap(), ["SET", "k", ""]);
        assert_eq!(split(r#"a"b c""#).unwrap(), ["ab c"]);
        assert!(split(r#"SET k "unterminated"#).is_none());
        assert!(split(r#"SET k "a"b"#).is_none());
        assert!(split("").unwrap().is_empty());
        assert_eq!(split("a\0b PING").unwrap(), ["a"]);
        assert!(split("\"a\0b\"").is_none());
    }

    #[test]
    fn long_lines_and_nul_bytes_neither_hang_nor_lose_replies() {
        let mut sh = Shell::new(Config::default(), 1, 1_700_000_000_000);
        let mut input = b"PING\n".to_vec();
        input.extend(std::iter::repeat_n(b'a', 200_000));
        input.extend(b"\nx\0y PING\nPING\n");
        let mut out = Vec::new();
        sh.run(&input[..], &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "PONG");
        assert!(lines[1].contains("too big inline request"), "{out}");
        assert!(
            lines[2].starts_with("(error) ERR unknown command 'x'"),
            "{out}"
        );
        assert_eq!(lines[3], "PONG");
    }

    #[test]
    fn the_clock_stops_at_its_ceiling_instead_of_wrapping() {
        let mut sh = Shell::new(Config::default(), 1, 1_700_000_000_000);
        assert_eq!(sh.line(b"SET k v EX 10"), "OK\n");
        for _ in 0..6000 {
            sh.line(b"DEBUG SLEEP 3200000000");
        }
        assert_eq!(sh.now, crate::limits::MAX_CLOCK_US);
        assert_eq!(sh.line(b"GET k"), "(nil)\n");
        assert_eq!(sh.line(b"SET k v EX 10"), "OK\n");
        assert_eq!(sh.line(b"TTL k"), "(integer) 10\n");
    }

    #[test]
    fn time_shows_the_simulated_clock_inside_and_outside_multi() {
        let mut sh = Shell::new(Config::default(), 1, 1_700_000_000_250);
        assert_eq!(sh.line(b"TIME"), "1) \"1700000000\"\n2) \"250000\"\n");
        sh.line(b"DEBUG SLEEP 2.5");
        assert_eq!(sh.line(b"TIME"), "1) \"1700000002\"\n2) \"750000\"\n");
        assert_eq!(
            sh.line(b"TIME x"),
            "(error) ERR wrong number of arguments for 'time' command\n"
        );
        assert_eq!(sh.line(b"MULTI"), "OK\n");
        assert_eq!(sh.line(b"TIME"), "QUEUED\n");
        assert_eq!(sh.line(b"EXEC"), "1) 1) \"1700000002\"\n   2) \"750000\"\n");
    }

    #[test]
    fn other_types_get_wrongtype_on_a_string_key() {
        let mut sh = Shell::new(Config::default(), 1, 1_700_000_000_000);
        sh.line(b"SET s v");
        assert_eq!(
            sh.line(b"HSET s f v"),
            "(error) WRONGTYPE Operation against a key holding the wrong kind of value\n"
        );
        assert!(sh
            .line(b"LPUSH l a")
            .starts_with("(error) ERR unknown command 'LPUSH'"));
    }

    #[test]
    fn sleep_advances_the_clock_and_expires_keys() {
        let mut sh = Shell::new(Config::default(), 1, 1_700_000_000_000);
        assert_eq!(sh.line(b"SET k v EX 2"), "OK\n");
        assert_eq!(sh.line(b"TTL k"), "(integer) 2\n");
        assert_eq!(sh.line(b"DEBUG SLEEP 1"), "OK\n");
        assert_eq!(sh.line(b"TTL k"), "(integer) 1\n");
        assert_eq!(sh.line(b"DEBUG SLEEP 1.5"), "OK\n");
        assert_eq!(sh.line(b"GET k"), "(nil)\n");
        assert_eq!(
            sh.line(b"3 INCR c"),
            "(integer) 1\n(integer) 2\n(integer) 3\n"
        );
    }
}
