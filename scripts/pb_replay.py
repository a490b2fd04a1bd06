#!/usr/bin/env python3
"""Replays PocketBase 0.40's captured exchanges (Tests/Contract/pocketbase-0.40/) against live Burg servers
and compares each answer with PocketBase's: the status, the headers that matter and the body's shape
(keys, value types, list lengths, error codes and messages), with the corpus's placeholders as typed
wildcards that bind on first sight and must then hold the same value.

Every difference found must be listed in the "Replay differences" table of docs/COMPATIBILITY.md; the run
fails on a difference that is not listed and on a listed one that no longer differs (a stale row).

    scripts/pb_replay.py --burg .build/debug/burg          replay, compare, exit 0 (pass) or 1
    scripts/pb_replay.py ... --all                         also print the listed differences
    scripts/pb_replay.py ... --keep                        keep the servers' data dirs and logs

Python 3 standard library only; the mail sink is a small SMTP server of its own.
"""
import argparse
import base64
import fnmatch
import http.client
import json
import os
import re
import shutil
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "Tests", "Contract", "pocketbase-0.40")
TABLE = os.path.join(ROOT, "docs", "COMPATIBILITY.md")
TABLE_HEADING = "## Replay differences"

SU_EMAIL, SU_PASS = "admin@example.com", "Adm1n-secret-pw"
# The SMTP sink's port in the corpus; replaced by the replay's own sink port (and port - 1 alike).
CORPUS_SMTP_PORT = 18095

# Response headers compared on every exchange (the corpus kept these); with "all headers" exchanges every
# header but Date, Content-Length and Transfer-Encoding (which depend on how the body is sent).
# (The corpus's README says cors.json and health.json keep every header; its exchanges show that only
# those whose request lists accept-encoding do.)
KEPT_HEADERS = ["content-type", "cache-control", "content-disposition", "content-range", "accept-ranges",
                "location", "vary", "content-security-policy", "last-modified", "x-accel-buffering"]
NEVER_COMPARED = {"date", "content-length", "transfer-encoding", "connection", "keep-alive"}

# ---------------------------------------------------------------------------------------------------------
# placeholders
# ---------------------------------------------------------------------------------------------------------

PLACEHOLDER = re.compile(
    r"<(?P<kind>id|clientId|suffix|pad|rand|autogen|otp):(?P<len>\d+)(?:#(?P<n>\d+))?>"
    r"|<(?P<plain>jwt|datetime|http-date|execTime|size|varies|tmpdir|unix|boundary|rfc2822-date)>"
    r"|<<random>@example\.com>"
    r"|(?P<coll>\bpbc_\d{4,}\b)")
TOKEN_REF = re.compile(r"<token:(?P<who>[^>]+)>")

PLAIN_PATTERNS = {
    "jwt": r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+",
    "datetime": r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z",
    "http-date": r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
    "boundary": r"[^;\s]+",
}
# Placeholders standing for a whole value that may be a number.
NUMBER_WILDCARDS = {"<execTime>", "<size>", "<unix>", "<varies>"}


def kind_pattern(m):
    if m.group("kind"):
        kind, n = m.group("kind"), int(m.group("len"))
        if kind in ("id", "suffix", "pad", "rand"):
            return "[a-z0-9]{%d}" % n
        if kind == "clientId":
            return r"[A-Za-z0-9_-]+"
        if kind == "otp":
            return r"\d+"
        return r".+?"
    if m.group("coll"):
        return r"pbc_[A-Za-z0-9_]+"
    return PLAIN_PATTERNS.get(m.group("plain"), r".*?")


def binding_key(m):
    """The name a placeholder binds under, or None for one that stands for any value each time."""
    if m.group("coll"):
        return m.group("coll")
    if m.group("kind") and m.group("n"):
        return "%s:%s#%s" % (m.group("kind"), m.group("len"), m.group("n"))
    return None


class Bindings:
    def __init__(self):
        self.values = {}     # (file, key) -> value; collection ids are shared by all files
        self.first_seen = {}  # key -> where it was bound

    def _k(self, file, key):
        return ("*", key) if key.startswith("pbc_") else (file, key)

    def get(self, file, key):
        return self.values.get(self._k(file, key))

    def set(self, file, key, value):
        self.values[self._k(file, key)] = value


def match_string(expected, actual, file, bindings, new):
    """Whether `actual` is `expected` with its placeholders filled; binds unbound ones into `new`."""
    parts, groups, pos = [], {}, 0
    for m in PLACEHOLDER.finditer(expected):
        parts.append(re.escape(expected[pos:m.start()]))
        pos = m.end()
        key = binding_key(m)
        bound = bindings.get(file, key) if key else None
        if bound is None and key in new:
            bound = new[key]
        if bound is not None:
            parts.append(re.escape(bound))
        elif key and key in groups:
            parts.append("(?P=%s)" % groups[key])
        elif key:
            groups[key] = "g%d" % len(groups)
            parts.append("(?P<%s>%s)" % (groups[key], kind_pattern(m)))
        else:
            parts.append("(?:%s)" % kind_pattern(m))
    parts.append(re.escape(expected[pos:]))
    mm = re.fullmatch("".join(parts), actual, re.S)
    if not mm:
        return False
    for key, g in groups.items():
        new[key] = mm.group(g)
    return True


# ---------------------------------------------------------------------------------------------------------
# comparison
# ---------------------------------------------------------------------------------------------------------

def type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def short(v, n=120):
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + "…"


class Comparer:
    """Compares one expected JSON value with the answer's; `diffs` collects (key, expected, got) where key
    is "<aspect> <where>" (aspects: missing, extra, type, value, length, order)."""

    def __init__(self, file, bindings, check_order=True):
        self.file, self.bindings, self.check_order = file, bindings, check_order
        self.new = {}
        self.diffs = []

    def diff(self, aspect, where, expected, got):
        self.diffs.append(("%s %s" % (aspect, where), expected, got))

    def compare(self, exp, got, where):
        if isinstance(exp, str) and exp in NUMBER_WILDCARDS and type_name(got) in ("number", "string"):
            return
        te, tg = type_name(exp), type_name(got)
        if te != tg:
            self.diff("type", where, exp, got)
            return
        if te == "object":
            ek, gk = list(exp.keys()), list(got.keys())
            for k in ek:
                if k not in got:
                    self.diff("missing", "%s.%s" % (where, k), exp[k], None)
            for k in gk:
                if k not in exp:
                    self.diff("extra", "%s.%s" % (where, k), None, got[k])
            for k in ek:
                if k in got:
                    self.compare(exp[k], got[k], "%s.%s" % (where, k))
            common_e = [k for k in ek if k in got]
            common_g = [k for k in gk if k in exp]
            if self.check_order and common_e != common_g:
                self.diff("order", where, common_e, common_g)
        elif te == "array":
            if len(exp) != len(got):
                # Items of lists of another length would be compared with the wrong partners.
                self.diff("length", where, len(exp), len(got))
                return
            for i, (e, g) in enumerate(zip(exp, got)):
                self.compare(e, g, "%s.%d" % (where, i))
        elif te == "string":
            if PLACEHOLDER.search(exp):
                if not match_string(exp, got, self.file, self.bindings, self.new):
                    self.diff("value", where, exp, got)
            elif exp != got:
                self.diff("value", where, exp, got)
        elif exp != got:
            self.diff("value", where, exp, got)

    def commit(self):
        for k, v in self.new.items():
            if self.bindings.get(self.file, k) is None:
                self.bindings.set(self.file, k, v)


# ---------------------------------------------------------------------------------------------------------
# the allowance table
# ---------------------------------------------------------------------------------------------------------

class Allowance:
    """One row of the table: `exchange` is `file#N`, `file#N-M`, `file#*` or `file METHOD /path-glob`
    (the path as the corpus writes it, placeholders included); `aspect` a glob over a difference's key."""

    def __init__(self, exchange, aspect, reason, line):
        self.exchange, self.aspect, self.reason, self.line = exchange, aspect, reason, line
        self.used = 0
        m = re.fullmatch(r"([a-z]+|\*)#(\*|\d+)(?:-(\d+))?", exchange)
        if m:
            self.file = m.group(1)
            self.lo = None if m.group(2) == "*" else int(m.group(2))
            self.hi = int(m.group(3)) if m.group(3) else self.lo
            self.method = self.path = None
        else:
            m = re.fullmatch(r"([a-z*]+) ([A-Z*]+) (\S+)", exchange)
            if not m:
                raise ValueError("line %d: exchange pattern %r is neither file#N[-M] nor 'file METHOD /path'"
                                 % (line, exchange))
            self.file, self.method, self.path = m.group(1), m.group(2), m.group(3)
            self.lo = self.hi = None

    def matches(self, file, index, method, path, key):
        if self.file != "*" and self.file != file:
            return False
        if self.method is not None:
            if not fnmatch.fnmatchcase(method, self.method) or not fnmatch.fnmatchcase(path, self.path):
                return False
        elif self.lo is not None and not (self.lo <= index <= self.hi):
            return False
        return fnmatch.fnmatchcase(key, self.aspect)


def read_table(path):
    rows, on = [], False
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.startswith("## "):
                on = line.strip() == TABLE_HEADING
                continue
            if not on or not line.startswith("|"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 3 or cells[0] in ("exchange", "---") or set(cells[0]) <= set("-: "):
                continue
            unq = lambda s: s[1:-1] if s.startswith("`") and s.endswith("`") else s
            rows.append(Allowance(unq(cells[0]), unq(cells[1]), cells[2], n))
    return rows


# ---------------------------------------------------------------------------------------------------------
# what to send
# ---------------------------------------------------------------------------------------------------------

def png(width, height, seed):
    """A small valid RGB PNG (so thumbnails can be made of it)."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw += bytes(((x * 4 + seed) % 256, (y * 5 + seed * 3) % 256, ((x + y) * 3) % 256))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


def file_content(part, state):
    size, ctype, name = part.get("bytes"), part.get("content-type", ""), part.get("filename", "")
    if size == "<size>":
        return state.last_download or b"PK\x05\x06" + b"\x00" * 18
    size = int(size or 0)
    if ctype == "image/png" and size > 100:
        return png(64, 48, len(name))
    if ctype == "text/plain":
        return (b"x" * max(size - 1, 0) + b"\n")[:size] if size else b""
    if ctype == "application/pdf":
        head = b"%PDF-1.4\n%%EOF\n"
        return (head + b" " * size)[:max(size, len(head))]
    if name.endswith(".zip"):
        return (b"not a zip" + b" " * size)[:size]
    return (b"not really an image " * (size // 20 + 1))[:size] if ctype.startswith("image/") else b"\0" * size


def multipart(parts, sub, state):
    boundary = "replay-boundary-5e2a"
    out = bytearray()
    for p in parts:
        out += b"--%s\r\n" % boundary.encode()
        if "filename" in p:
            out += ('Content-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: %s\r\n\r\n'
                    % (p["name"], p["filename"], p.get("content-type", "application/octet-stream"))).encode()
            out += file_content(p, state)
        else:
            out += ('Content-Disposition: form-data; name="%s"\r\n\r\n' % p["name"]).encode()
            out += sub(p.get("value", "")).encode()
        out += b"\r\n"
    out += b"--%s--\r\n" % boundary.encode()
    return bytes(out), "multipart/form-data; boundary=" + boundary


def decode_jwt(tok):
    try:
        h, p, _ = tok.split(".")
        pad = lambda s: s + "=" * (-len(s) % 4)
        header = json.loads(base64.urlsafe_b64decode(pad(h)))
        claims = json.loads(base64.urlsafe_b64decode(pad(p)))
    except Exception:
        return {"undecodable": True}
    out = {}
    for k, v in claims.items():
        if k in ("exp", "iat", "nbf") and isinstance(v, (int, float)):
            out[k] = "<unix>"
            out[k + "_minus_now_s"] = int(round((v - time.time()) / 60.0) * 60)
        else:
            out[k] = v
    return {"header": header, "claims": out}


# ---------------------------------------------------------------------------------------------------------
# servers, the mail sink and the event stream
# ---------------------------------------------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class MailSink:
    """An SMTP server on loopback that keeps every message it is given (no TLS, no AUTH)."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 replay sink\r\n")
                data, in_data = [], False
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    if in_data:
                        if line in (b".\r\n", b".\n"):
                            with sink.lock:
                                sink.messages.append(b"".join(data))
                            data, in_data = [], False
                            self.wfile.write(b"250 OK\r\n")
                        else:
                            data.append(line[1:] if line.startswith(b"..") else line)
                        continue
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        self.wfile.write(b"250-replay sink\r\n250 8BITMIME\r\n")
                    elif verb == b"DATA":
                        in_data = True
                        self.wfile.write(b"354 go ahead\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 OK\r\n")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def newest(self):
        with self.lock:
            return self.messages[-1] if self.messages else None

    def count(self):
        with self.lock:
            return len(self.messages)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def mail_text(raw):
    import email
    import email.policy
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    texts = []
    for part in msg.walk():
        if not part.is_multipart():
            try:
                texts.append(part.get_content())
            except Exception:
                texts.append((part.get_payload(decode=True) or b"").decode("utf-8", "replace"))
    return "\n".join(t if isinstance(t, str) else "" for t in texts)


class Burg:
    def __init__(self, binary, root, name, flags):
        self.dir = os.path.join(root, name)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.log = open(os.path.join(self.dir + ".log"), "wb")
        subprocess.run([binary, "superuser", "upsert", SU_EMAIL, SU_PASS, "--bcrypt-cost", "4",
                        "--data-dir", self.data], check=True, stdout=subprocess.DEVNULL)
        self.proc = subprocess.Popen([binary, "serve", "--http", "127.0.0.1:%d" % self.port, "--data-dir",
                                      self.data, "--bcrypt-cost", "4", "--health-interval", "0"] + flags,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if self.proc.poll() is not None:
                raise RuntimeError("burg serve (%s) exited %s; log in %s.log" % (name, self.proc.returncode,
                                                                                 self.dir))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/api/health")
                c.getresponse().read()
                c.close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("burg serve (%s) did not answer" % name)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class EventStream:
    """GET /api/realtime on a raw socket: the response head as sent and every frame, as text."""

    def __init__(self, port, headers=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(0.3)
        lines = ["GET /api/realtime HTTP/1.1", "Host: 127.0.0.1:%d" % port, "Accept: text/event-stream"]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.head, self.frames, self.lock, self.stopped = b"", [], threading.Lock(), False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self.client_id = None
        t0 = time.time()
        while time.time() - t0 < 5 and self.client_id is None:
            with self.lock:
                if self.frames:
                    m = re.search(r'"clientId":"([^"]+)"', self.frames[0])
                    self.client_id = m.group(1) if m else ""
            time.sleep(0.02)
        self.seen = 1  # PB_CONNECT is the connect's own frame, not an event

    def _read(self):
        buf, payload, head_done, chunked = b"", b"", False, False
        while not self.stopped:
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not d:
                break
            buf += d
            if not head_done:
                if b"\r\n\r\n" not in buf:
                    continue
                self.head, buf = buf.split(b"\r\n\r\n", 1)
                head_done = True
                chunked = b"transfer-encoding: chunked" in self.head.lower()
            if chunked:
                while b"\r\n" in buf:
                    size_line, rest = buf.split(b"\r\n", 1)
                    try:
                        size = int(size_line.split(b";")[0], 16)
                    except ValueError:
                        break
                    if len(rest) < size + 2:
                        break
                    payload, buf = payload + rest[:size], rest[size + 2:]
            else:
                payload, buf = payload + buf, b""
            with self.lock:
                self.frames = [p + "\n\n" for p in payload.decode("utf-8", "replace").split("\n\n")[:-1]]

    def take_new(self):
        with self.lock:
            new = self.frames[self.seen:]
            self.seen = len(self.frames)
        return new

    def head_info(self):
        lines = self.head.decode("latin-1").split("\r\n")
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return lines[0], hdrs

    def close(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def parse_frame(frame):
    out = {}
    for ln in frame.rstrip("\n").split("\n"):
        k, _, v = ln.partition(":")
        out.setdefault(k, []).append(v)
    res = {k: (v[0] if len(v) == 1 else v) for k, v in out.items()}
    if isinstance(res.get("data"), str):
        try:
            res["data"] = json.loads(res["data"])
        except ValueError:
            pass
    return res


# ---------------------------------------------------------------------------------------------------------
# the replay
# ---------------------------------------------------------------------------------------------------------

FILES = ["auth", "backups", "batch", "collections", "cors", "crons", "errors", "files", "health", "logs",
         "realtime", "records", "settings"]
# Identity of a sign-in -> the name its token has in the corpus (`<token:WHO>`).
WHO_BY_IDENTITY = {"admin": "superuser", "member_one": "member", "m1": "member", "carol.new": "carol"}
# Ids a request uses before any answer in its own file shows them: whose id it is.
ID_HINTS = {("auth", 17): "m1", ("errors", 19): "carol", ("files", 49): "alice", ("realtime", 0): "alice"}


def replay_order(corpus):
    """(file, index) in the order capture.py's STEPS made the exchanges."""
    n = {f: len(corpus[f]) for f in FILES}
    order = [("auth", 0)] + [("settings", i) for i in range(3)]
    order += [("collections", i) for i in range(n["collections"])]
    order += [("records", i) for i in range(3)] + [("auth", i) for i in (1, 2, 3)]
    order += [("records", i) for i in range(3, n["records"])]
    order += [("files", i) for i in range(n["files"])]
    order += [("auth", i) for i in range(4, n["auth"])]
    order += [("realtime", i) for i in range(n["realtime"])]
    order += [("batch", i) for i in range(n["batch"])]
    order += [("settings", i) for i in range(3, n["settings"])]
    order += [("crons", i) for i in range(n["crons"])]
    third = [i for i, e in enumerate(corpus["errors"]) if e.get("name", "").startswith("server without a pb_public")]
    order += [("errors", i) for i in range(n["errors"]) if i not in third]
    order += [("cors", i) for i in range(n["cors"])]
    order += [("errors", i) for i in third]
    for f in ("logs", "health", "backups"):
        order += [(f, i) for i in range(n[f])]
    return order


class Result:
    def __init__(self, file, index, ex):
        self.file, self.index, self.ex = file, index, ex
        req = ex.get("request") or {}
        self.method, self.path = req.get("method", "-"), req.get("path", "-")
        self.diffs = []       # (key, expected, got)
        self.notes = []


class Replay:
    def __init__(self, corpus, servers, sink):
        self.corpus, self.servers, self.sink = corpus, servers, sink
        self.bindings = Bindings()
        self.tokens = {}             # WHO -> token
        self.people = {}             # email local part -> record id (first seen)
        self.file_token = None       # the newest file token
        self.last_download = None
        self.streams = {}            # who -> EventStream (realtime)
        self.free_streams = []
        self.mails_used = 0

    # -- substitution into requests -----------------------------------------------------------------------
    def sub(self, s, res):
        if not isinstance(s, str):
            return s
        s = s.replace(str(CORPUS_SMTP_PORT), str(self.sink.port))

        def token(m):
            who = m.group("who")
            if who == "other-jwt":
                return self.tokens.get("superuser", "x")[:-4] + "AAAA"
            base = who.split("#")[0]
            tok = self.tokens.get(who) or self.tokens.get(base)
            if tok is None:
                res.notes.append("no token for %s" % who)
                return "unbound-token"
            return tok

        s = TOKEN_REF.sub(token, s)

        def ph(m):
            key = binding_key(m)
            v = self.bindings.get(res.file, key) if key else None
            if v is not None:
                return v
            if m.group("coll"):
                return m.group("coll")
            if m.group("kind") == "id":
                hint = ID_HINTS.get((res.file, res.index))
                if hint and hint in self.people:
                    self.bindings.set(res.file, key, self.people[hint])
                    return self.people[hint]
            if m.group("kind") == "clientId":
                return self.bind_stream(res, key)
            if m.group("kind") == "otp":
                otp = self.mail_match(r"<strong>(\d{6,10})</strong>|\b(\d{6,10})\b")
                if otp:
                    self.bindings.set(res.file, key, otp)
                    return otp
            if m.group("plain") == "jwt":
                return self.request_jwt(res)
            res.notes.append("unbound %s" % m.group(0))
            return {"id": "zzzzzzzzunbound", "otp": "000000"}.get(m.group("kind"), "unbound")

        return PLACEHOLDER.sub(ph, s)

    def sub_json(self, v, res):
        if isinstance(v, str):
            return self.sub(v, res)
        if isinstance(v, int) and not isinstance(v, bool) and v in (CORPUS_SMTP_PORT, CORPUS_SMTP_PORT - 1):
            return self.sink.port - (CORPUS_SMTP_PORT - v)
        if isinstance(v, list):
            return [self.sub_json(x, res) for x in v]
        if isinstance(v, dict):
            return {self.sub(k, res): self.sub_json(x, res) for k, x in v.items()}
        return v

    def sink_port(self, v):
        """An answer holding the corpus's SMTP port holds the replay's sink port instead."""
        if isinstance(v, int) and not isinstance(v, bool) and v in (CORPUS_SMTP_PORT, CORPUS_SMTP_PORT - 1):
            return self.sink.port - (CORPUS_SMTP_PORT - v)
        if isinstance(v, list):
            return [self.sink_port(x) for x in v]
        if isinstance(v, dict):
            return {k: self.sink_port(x) for k, x in v.items()}
        return v

    def mail_match(self, pattern):
        raw = self.sink.newest()
        if raw is None:
            return None
        m = re.search(pattern, mail_text(raw))
        return next((g for g in m.groups() if g), None) if m else None

    def request_jwt(self, res):
        name = res.ex.get("name", "")
        if "auth token" in name:
            return self.tokens.get("alice", "unbound")
        if "alice file token" in name or "regular user's file token" in name:
            return self.tokens.get("file-token:alice", "unbound")
        if "/api/files/" in res.path or "/api/backups/" in res.path:
            return self.file_token or "unbound"
        tok = self.mail_match(r"([A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})")
        if tok is None:
            res.notes.append("no mail to take the token from")
            return "unbound.mail.token"
        return tok

    def bind_stream(self, res, key):
        who = {"subscribe superuser client": "superuser", "subscribe alice client": "alice"}.get(
            res.ex.get("name"), "x")
        st = EventStream(self.servers["main"].port)
        self.streams[who] = st
        self.bindings.set(res.file, key, st.client_id or "no-client-id")
        return st.client_id or "no-client-id"

    # -- one exchange -------------------------------------------------------------------------------------
    def run(self, file, index):
        ex = self.corpus[file][index]
        res = Result(file, index, ex)
        name = ex.get("name", "")
        if file == "realtime" and "frames" in ex:
            self.realtime_frames(res)
            return res
        if "request" not in ex or "response" not in ex:
            return None
        if "after the 3s window" in name:
            time.sleep(3.1)
        if name.startswith("server with --origins"):
            server = self.servers["origins"]
        elif name.startswith("server without a pb_public"):
            server = self.servers["nopublic"]
        else:
            server = self.servers["main"]
        req = ex["request"]
        path = self.sub(req["path"], res)
        if req.get("query"):
            path += "?" + urllib.parse.urlencode({k: self.sub(v, res) for k, v in req["query"].items()})
        headers = {}
        for k, v in req.get("headers", {}).items():
            # accept-encoding: the replay reads bodies as sent; a multipart body sets its own boundary.
            if k == "accept-encoding" or (k == "content-type" and isinstance(req.get("body"), dict)
                                          and "multipart" in req["body"]):
                continue
            headers[k] = self.sub(v, res)
        body = None
        b = req.get("body")
        if isinstance(b, dict) and "multipart" in b:
            body, headers["content-type"] = multipart(b["multipart"], lambda s: self.sub(s, res), self)
        elif isinstance(b, dict) and set(b) == {"bytes"}:
            field = "name" if "/tags/" in req["path"] else "title"
            pre = ('{"%s":"' % field).encode()
            body = pre + b"x" * (int(b["bytes"]) - len(pre) - 2) + b'"}'
        elif isinstance(b, str):
            body = self.sub(b, res).encode()
        elif b is not None:
            body = json.dumps(self.sub_json(b, res)).encode()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            conn.request(req["method"], path, body=body, headers=headers)
            r = conn.getresponse()
            raw = r.read()
            got_headers = {}
            for k, v in r.getheaders():
                got_headers.setdefault(k.lower(), v)
            status = r.status
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            res.diffs.append(("status", ex["response"]["status"], "no answer (%s)" % e))
            return res
        self.compare_response(res, ex, status, got_headers, raw)
        self.after(res, ex, status, raw)
        return res

    def compare_response(self, res, ex, status, got_headers, raw):
        exp = ex["response"]
        if status != exp["status"]:
            res.diffs.append(("status", exp["status"], "%s %s" % (status, raw[:200].decode("utf-8", "replace"))))
            return
        # capture.py kept every header where it sent its client's full header set (accept-encoding shows).
        full = "accept-encoding" in ex["request"].get("headers", {}) or "(all headers)" in ex.get("name", "")
        names = set(exp.get("headers", {})) | (set(got_headers) if full else set(KEPT_HEADERS))
        names |= {h for h in got_headers if h.startswith("access-control-")}
        for h in sorted(names - NEVER_COMPARED):
            e, g = exp["headers"].get(h), got_headers.get(h)
            if e == g:
                continue
            if e is not None and g is not None and PLACEHOLDER.search(e):
                c = Comparer(res.file, self.bindings)
                if match_string(e, g, res.file, self.bindings, c.new):
                    continue
            res.diffs.append(("header %s" % h, e, g))
        if "body" not in exp and "body_raw" not in exp:
            return
        ctype = got_headers.get("content-type", "")
        c = Comparer(res.file, self.bindings, check_order="keyOrder" not in ex)
        e = self.sink_port(exp.get("body"))
        if isinstance(e, (dict, list)) and not (isinstance(e, dict) and set(e) == {"bytes", "sha256_16"}):
            try:
                got = json.loads(raw)
            except ValueError:
                res.diffs.append(("type body", "JSON", raw[:120].decode("utf-8", "replace")))
                return
            c.compare(e, got, "body")
            res.got_json = got
        elif isinstance(e, dict):
            if ctype.startswith("application/json") or not raw:
                res.diffs.append(("type body", "file bytes", raw[:120].decode("utf-8", "replace")))
        elif isinstance(e, str):
            text = raw.decode("utf-8", "replace")
            # A download's text is the uploaded file, which the corpus does not hold.
            if not res.path.startswith("/api/files/") and text != e and not (
                    PLACEHOLDER.search(e) and match_string(e, text, res.file, self.bindings, c.new)):
                res.diffs.append(("value body", e, text))
        if "body_raw" in exp:
            rawtext = raw.decode("utf-8", "replace")
            if not match_string(exp["body_raw"], rawtext, res.file, self.bindings, c.new):
                res.diffs.append(("raw body", exp["body_raw"], rawtext))
        if "jwt" in ex and isinstance(getattr(res, "got_json", None), dict):
            tok = res.got_json.get("token")
            if isinstance(tok, str):
                # The claims' order is not part of the token's meaning.
                cj = Comparer(res.file, self.bindings, check_order=False)
                cj.compare(ex["jwt"], decode_jwt(tok), "jwt")
                c.diffs += cj.diffs
        c.commit()
        res.diffs += c.diffs

    def after(self, res, ex, status, raw):
        """Tokens, people and file contents the following exchanges need."""
        if status >= 400 or not raw:
            return
        try:
            body = json.loads(raw)
        except ValueError:
            if "/api/backups/" in res.path:
                self.last_download = raw
            return
        rec = body.get("record") if isinstance(body, dict) and isinstance(body.get("record"), dict) else body
        if isinstance(rec, dict) and isinstance(rec.get("email"), str) and isinstance(rec.get("id"), str):
            self.people.setdefault(rec["email"].split("@")[0], rec["id"])
        if not isinstance(body, dict) or not isinstance(body.get("token"), str):
            return
        name, req = ex.get("name", ""), ex["request"]
        if res.path == "/api/files/token":
            who = "file-token:alice" if "alice" in name else "file-token:superuser"
            self.tokens[who] = body["token"]
            self.file_token = body["token"]
        elif "/impersonate/" in res.path and "carol" in name:
            self.tokens["impersonated-carol"] = body["token"]
        elif res.path.endswith("/auth-with-password") and isinstance(req.get("body"), dict):
            ident = str(req["body"].get("identity", "")).split("@")[0]
            self.tokens[WHO_BY_IDENTITY.get(ident, ident)] = body["token"]

    # -- realtime's event frames --------------------------------------------------------------------------
    def realtime_frames(self, res):
        ex = res.ex
        if "request" in ex:  # the connect: head and PB_CONNECT
            res.method, res.path = "GET", "/api/realtime"
            st = EventStream(self.servers["main"].port)
            self.streams["guest"] = st
            time.sleep(0.2)
            line, hdrs = st.head_info()
            exp = ex["response"]
            if line != exp["status_line"]:
                res.diffs.append(("status", exp["status_line"], line))
            for h in sorted((set(exp["headers"]) | set(hdrs)) - (NEVER_COMPARED - {"transfer-encoding"})):
                if exp["headers"].get(h) != hdrs.get(h):
                    res.diffs.append(("header %s" % h, exp["headers"].get(h), hdrs.get(h)))
            with st.lock:
                first = st.frames[:1]
            self.compare_frames(res, ex["frames"], first, "frames")
            return
        res.method, res.path = "EVENTS", "-"
        time.sleep(0.8)
        for who, frames in ex["frames"].items():
            st = self.streams.get(who)
            got = st.take_new() if st else []
            self.compare_frames(res, frames, got, "frames.%s" % who)

    def compare_frames(self, res, expected, got_raw, where):
        got = sorted((parse_frame(f) for f in got_raw), key=lambda f: str(f.get("event", "")))
        if len(got) != len(expected):
            res.notes.append("%s: events %s, expected %s" % (where, [f.get("event") for f in got],
                                                          [f.get("event") for f in expected]))
        c = Comparer(res.file, self.bindings, check_order=False)
        c.compare(expected, got, where)
        c.commit()
        res.diffs += c.diffs


# ---------------------------------------------------------------------------------------------------------
# judging and reporting
# ---------------------------------------------------------------------------------------------------------

def judge(results, rows):
    """Splits the differences into allowed and unlisted; marks the rows that allowed something."""
    allowed, unlisted = [], []
    for r in results:
        for key, e, g in r.diffs:
            row = next((a for a in rows if a.matches(r.file, r.index, r.method, r.path, key)), None)
            if row:
                row.used += 1
                allowed.append((r, key, e, g, row))
            else:
                unlisted.append((r, key, e, g))
    stale = [a for a in rows if a.used == 0]
    return allowed, unlisted, stale


def describe(r, key, e, g):
    return "  %s#%d %s %s  [%s]\n      %s\n      expected %s\n      got      %s%s" % (
        r.file, r.index, r.method, r.path, r.ex.get("name", ""), key, short(e), short(g),
        ("\n      notes: " + "; ".join(r.notes)) if r.notes else "")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--burg", default=os.path.join(ROOT, ".build", "debug", "burg"))
    ap.add_argument("--corpus", default=CORPUS)
    ap.add_argument("--table", default=TABLE)
    ap.add_argument("--all", action="store_true", help="also print the listed (allowed) differences")
    ap.add_argument("--keep", action="store_true", help="keep the servers' data and logs")
    ap.add_argument("--flag", action="append", default=[], help="one more `burg serve` argument (repeatable)")
    args = ap.parse_args(argv)

    corpus = {f: json.load(open(os.path.join(args.corpus, f + ".json"), encoding="utf-8")) for f in FILES}
    rows = read_table(args.table)
    root = tempfile.mkdtemp(prefix="burg-replay-")
    public = os.path.join(root, "public")
    os.makedirs(os.path.join(public, "assets"))
    # The files capture.py served from pb_public (their text is in cors.json's answers).
    for rel, text in (("index.html", "<!doctype html><title>pb_public index</title><p>spa index</p>\n"),
                      ("hello.txt", "hello from pb_public\n"), ("assets/app.css", "body{color:#123}\n")):
        with open(os.path.join(public, rel), "w") as f:
            f.write(text)
    sink = MailSink()
    servers = {}
    started = time.time()
    try:
        common = args.flag
        servers["main"] = Burg(args.burg, root, "main", ["--public-dir", public] + common)
        servers["origins"] = Burg(args.burg, root, "origins", [
            "--public-dir", public, "--index-fallback", "false",
            "--origins", "http://localhost:5173,https://app.example.com"] + common)
        # PocketBase was given a --publicDir that does not exist; Burg refuses to start with one (exit 66),
        # so this server has none (its default, burg_public beside the data dir, does not exist either).
        servers["nopublic"] = Burg(args.burg, root, "nopublic", common)
        replay = Replay(corpus, servers, sink)
        results = []
        for file, index in replay_order(corpus):
            r = replay.run(file, index)
            if r is not None:
                results.append(r)
        for st in replay.streams.values():
            st.close()
    finally:
        for s in servers.values():
            s.stop()
        sink.close()
        if args.keep:
            print("kept", root)
        else:
            shutil.rmtree(root, ignore_errors=True)

    allowed, unlisted, stale = judge(results, rows)
    same = sum(1 for r in results if not r.diffs)
    if args.all and allowed:
        print("== listed differences (allowed by docs/COMPATIBILITY.md)")
        for r, key, e, g, row in allowed:
            print(describe(r, key, e, g) + "\n      allowed by line %d: %s" % (row.line, row.reason))
    if unlisted:
        print("== differences not listed in docs/COMPATIBILITY.md (%s)" % TABLE_HEADING)
        for d in unlisted:
            print(describe(*d))
    if stale:
        print("== listed differences that no longer differ (remove these rows)")
        for a in stale:
            print("  line %d: | %s | %s | %s |" % (a.line, a.exchange, a.aspect, a.reason))
    print("== pb-replay: %d exchanges, %d answered as PocketBase does, %d differences listed, %d unlisted, "
          "%d stale rows, %.0f s: %s" % (len(results), same, len(allowed), len(unlisted), len(stale),
                                        time.time() - started, "FAILED" if unlisted or stale else "passed"))
    return 1 if unlisted or stale else 0


if __name__ == "__main__":
    sys.exit(main())
