"""Tiny RESP2 client and redis-server launcher (Python 3 standard library only).

Used by the validation scripts in this directory, which measure a real
redis-server 7.0 to produce fixtures for ttlsim.

    from resp import Redis, RedisServer, RespError

    with RedisServer(config={"hz": 10}) as srv:      # fresh server, free port
        r = Redis(port=srv.port)
        r.command("SET", "k", "v", "EX", 10)          # -> "OK"
        r.pipeline([("GET", "k"), ("TTL", "k")])      # -> [b"v", 10]
        r.info("memory")["used_memory"]               # -> int

Reply mapping: simple string -> str, bulk string -> bytes, nil -> None,
integer -> int, array -> list, error -> RespError instance (raised by
command(), returned in place by pipeline() unless raise_errors=True).
"""

import os
import socket
import subprocess
import sys
import tempfile
import time

__all__ = ["Redis", "RedisServer", "RespError", "encode_command", "free_port", "parse_info",
           "cpu_snapshot", "other_cpu", "wait_quiet"]


class RespError(Exception):
    """An error reply (-ERR ...). str(e) is the full error text."""

    def __eq__(self, other):
        return isinstance(other, RespError) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))

    def __repr__(self):
        return "RespError(%r)" % str(self)


def _to_bytes(a):
    if isinstance(a, bytes):
        return a
    if isinstance(a, (bytearray, memoryview)):
        return bytes(a)
    if isinstance(a, str):
        return a.encode()
    if isinstance(a, bool):
        return b"1" if a else b"0"
    if isinstance(a, (int, float)):
        return str(a).encode()
    raise TypeError("cannot encode %r" % (a,))


def encode_command(args):
    """Encode one command (sequence of str/bytes/int) as a RESP array."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = _to_bytes(a)
        parts.append(b"$%d\r\n" % len(b))
        parts.append(b)
        parts.append(b"\r\n")
    return b"".join(parts)


class Redis:
    """Blocking RESP2 connection."""

    def __init__(self, host="127.0.0.1", port=6379, timeout=60.0, connect_retries=0):
        self.host, self.port = host, port
        last = None
        for _ in range(connect_retries + 1):
            try:
                self.sock = socket.create_connection((host, port), timeout=timeout)
                break
            except OSError as e:  # server still starting
                last = e
                time.sleep(0.05)
        else:
            raise last
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb", buffering=1 << 16)

    # -- reply parsing ---------------------------------------------------
    def _readline(self):
        line = self.rfile.readline()
        if not line:
            raise ConnectionError("connection closed by server")
        if not line.endswith(b"\r\n"):
            raise ConnectionError("truncated reply line %r" % line)
        return line[:-2]

    def read_reply(self):
        line = self._readline()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RespError(rest.decode(errors="replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.rfile.read(n + 2)
            if len(data) != n + 2:
                raise ConnectionError("truncated bulk reply")
            return data[:-2]
        if t == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.read_reply() for _ in range(n)]
        raise ConnectionError("bad RESP type byte in %r" % line)

    # -- commands --------------------------------------------------------
    def send(self, *commands):
        """Send commands without reading replies (use read_reply later)."""
        self.sock.sendall(b"".join(encode_command(c) for c in commands))

    def command(self, *args):
        """Send one command, return its reply; error replies are raised."""
        self.sock.sendall(encode_command(args))
        r = self.read_reply()
        if isinstance(r, RespError):
            raise r
        return r

    __call__ = command

    def pipeline(self, commands, chunk=10000, raise_errors=False):
        """Send many commands, return the list of replies (same order).

        Commands are written in chunks of `chunk` commands; all replies of a
        chunk are read before the next chunk is sent, bounding the server's
        output buffer and our socket buffers."""
        out = []
        commands = list(commands)
        for i in range(0, len(commands), chunk):
            part = commands[i:i + chunk]
            self.sock.sendall(b"".join(encode_command(c) for c in part))
            for _ in part:
                out.append(self.read_reply())
        if raise_errors:
            for r in out:
                if isinstance(r, RespError):
                    raise r
        return out

    def info(self, section=None):
        """INFO [section] parsed into a dict (numbers converted to int/float;
        db lines like 'db0:keys=1,expires=0,avg_ttl=0' become dicts)."""
        raw = self.command("INFO", section) if section else self.command("INFO")
        return parse_info(raw)

    def close(self):
        try:
            self.rfile.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _num(v):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def parse_info(raw):
    if isinstance(raw, bytes):
        raw = raw.decode()
    d = {}
    for line in raw.split("\r\n"):
        if not line or line.startswith("#") or ":" not in line:
            continue
        k, v = line.split(":", 1)
        if k.startswith("db") and k[2:].isdigit() and "=" in v:
            d[k] = {kk: _num(vv) for kk, vv in (x.split("=", 1) for x in v.split(","))}
        else:
            d[k] = _num(v)
    return d


# ----------------------------------------------------------------------------
# Server launcher
# ----------------------------------------------------------------------------

def free_port(start=7400, end=7999, host="127.0.0.1"):
    """First port in [start, end] that nobody listens on (never 6379)."""
    for p in range(start, end + 1):
        if p == 6379:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((host, p))
        except OSError:
            continue
        finally:
            s.close()
        # also make sure no one answers (bind may succeed with SO_REUSE*)
        try:
            c = socket.create_connection((host, p), timeout=0.2)
            c.close()
            continue
        except OSError:
            return p
    raise RuntimeError("no free port in %d..%d" % (start, end))


class RedisServer:
    """Start a private redis-server on a free loopback port.

    config: dict or list of (name, value) extra config directives, passed on
    the command line as `--name value`. Always added: --save '' --appendonly
    no --enable-debug-command local --daemonize no, bind 127.0.0.1, a temp dir.
    """

    BASE = [("bind", "127.0.0.1"), ("save", ""), ("appendonly", "no"),
            ("enable-debug-command", "local"), ("daemonize", "no"),
            ("protected-mode", "yes"), ("loglevel", "warning")]

    def __init__(self, config=None, port=None, binary="redis-server", port_start=7400):
        self.binary = binary
        self.port = port or free_port(port_start)
        items = list(config.items()) if isinstance(config, dict) else list(config or [])
        self.config = self.BASE + items
        self.proc = None
        self.dir = None

    def start(self, timeout=10.0):
        self.dir = tempfile.mkdtemp(prefix="ttlsim-redis-")
        args = [self.binary, "--port", str(self.port), "--dir", self.dir,
                "--logfile", os.path.join(self.dir, "redis.log")]
        for k, v in self.config:
            args += ["--" + k, str(v)]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited: %s" % self.proc.stderr.read().decode())
            try:
                with Redis(port=self.port, timeout=1.0) as r:
                    if r.command("PING") == "PONG":
                        return self
            except (OSError, ConnectionError, RespError):
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("redis-server on port %d did not start" % self.port)
            time.sleep(0.02)

    def client(self, **kw):
        return Redis(port=self.port, **kw)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: with save '' it exits without saving
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None
        if self.dir:
            for f in os.listdir(self.dir):
                try:
                    os.unlink(os.path.join(self.dir, f))
                except OSError:
                    pass
            try:
                os.rmdir(self.dir)
            except OSError:
                pass
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ----------------------------------------------------------------------------
# Machine-noise helpers (the box has 2 cores; other work disturbs timing runs)
# ----------------------------------------------------------------------------

CLK = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(pids):
    """(busy jiffies of the whole machine, jiffies of the given pids, wall s)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = sum(v) - v[3] - v[4]  # minus idle, iowait
    own = 0
    for pid in pids:
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            own += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return busy, own, time.time()


def other_cpu(a, b):
    """Cores used by processes other than ours between snapshots a and b."""
    dt = max(1e-6, b[2] - a[2])
    return max(0.0, ((b[0] - a[0]) - (b[1] - a[1])) / CLK / dt)


def wait_quiet(max_other, window=3.0, timeout=600):
    """Wait until the rest of the machine used < max_other cores over `window` s."""
    t_end = time.time() + timeout
    while time.time() < t_end:
        a = cpu_snapshot(["self"])
        time.sleep(window)
        o = other_cpu(a, cpu_snapshot(["self"]))
        if o < max_other:
            return o
        print("  machine busy (other processes use %.2f cores), waiting" % o, file=sys.stderr, flush=True)
    return None



if __name__ == "__main__":  # smoke test
    with RedisServer() as srv:
        r = srv.client()
        assert r.command("SET", "a", "1", "EX", 100) == "OK"
        print(r.pipeline([("GET", "a"), ("TTL", "a"), ("GET", "nope"), ("INCR", "a"),
                          ("LPUSH", "a", "x"), ("MGET", "a", "nope"), ("PING",)]))
        print("port", srv.port, "used_memory", r.info("memory")["used_memory"])
