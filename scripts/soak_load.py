"""Mixed load for the sanitizer soak (scripts/sanitizer-soak.sh): JSON and multipart creates, lists with
filters and sorts, file downloads, deletes that keep the table bounded, realtime SSE subscribers that
reconnect, and jobs enqueued with `burg jobs enqueue` for a separate `burg worker`. Samples the server's
VmRSS every few seconds. Python standard library only.

Usage: soak_load.py URL SERVER_PID BURG DATA_DIR SECONDS EMAIL PASSWORD
Prints a summary as JSON on its last line; exits 1 on a 5xx, a status the call never answers with, a
failed connection, or RSS that grows after warm-up (last third's median more than RSS_MARGIN over the
middle third's)."""
import http.client
import json
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

RSS_MARGIN = 0.10  # the last third's median may exceed the middle third's by 10 %
RSS_INTERVAL = 2.0
KEEP_RECORDS = 300  # creates beyond this delete the oldest: the table (and SQLite's cache) stays bounded
LOAD_THREADS = 4
SSE_CLIENTS = 2
FILTERS = [
    "", "n > 50", "n >= 10 && n < 20", 'title ~ "soak"', 'title ~ "oak 1"', 'tags ?= "b"', 'tags ?= "a" || n = 3',
    '(n > 5 && title !~ "zz") || tags = "c"', 'created >= "2020-01-01"', 'title = "no such" && n != 1',
]
SORTS = ["", "-created", "n,-title", "title", "-n,created"]

url, server_pid, burg, data_dir, seconds, email, password = sys.argv[1:8]
seconds = float(seconds)
parts = urllib.parse.urlparse(url)
lock = threading.Lock()
counts = {}  # "kind status" -> n
failures = []
stop = threading.Event()
created_ids = []


def note(kind, status):
    with lock:
        key = f"{kind} {status}"
        counts[key] = counts.get(key, 0) + 1


def fail(message):
    with lock:
        if len(failures) < 50:
            failures.append(message)


class Client:
    def __init__(self, token=None):
        self.token = token
        self.connection = None

    def call(self, kind, method, path, body=None, content_type="application/json", expect=(200,)):
        headers = {}
        if self.token:
            headers["Authorization"] = self.token
        if body is not None:
            headers["Content-Type"] = content_type
            if content_type == "application/json":
                body = json.dumps(body)
        for attempt in range(2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as error:
                self.connection = None
                if attempt == 1:
                    note(kind, "connection-error")
                    fail(f"{method} {path}: {error!r}")
                    return None, None
        note(kind, response.status)
        if response.status >= 500 or response.status not in expect:
            fail(f"{method} {path}: {response.status} {data[:200]!r}")
            return response.status, None
        return response.status, (json.loads(data) if data and response.getheader("Content-Type", "").startswith("application/json") else data)


def setup():
    client = Client()
    _, auth = client.call("auth", "POST", "/api/collections/_superusers/auth-with-password",
                          {"identity": email, "password": password})
    if not auth:
        raise SystemExit(f"cannot sign in: {failures}")
    client.token = auth["token"]
    fields = [
        {"name": "title", "type": "text", "searchable": True}, {"name": "n", "type": "number"},
        {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
        {"name": "doc", "type": "file", "maxSelect": 2, "maxSize": 1 << 20},
    ]
    client.call("setup", "POST", "/api/collections",
                {"name": "soak", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
                 "deleteRule": "", "fields": fields})
    return auth["token"]


def multipart(fields, files):
    boundary = "soak" + uuid.uuid4().hex
    body = b""
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, filename, content in files:
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def remember(record):
    if not isinstance(record, dict) or "id" not in record:
        return None
    with lock:
        created_ids.append(record["id"])
        if len(created_ids) > KEEP_RECORDS:
            return created_ids.pop(0)
    return None


def load(token, seed):
    rng = random.Random(seed)
    client = Client(token)
    while not stop.is_set():
        choice = rng.random()
        if choice < 0.25:
            tags = rng.sample(["a", "b", "c"], rng.randint(0, 3))
            _, record = client.call("create", "POST", "/api/collections/soak/records",
                                    {"title": f"soak {rng.randint(0, 999)}", "n": rng.randint(0, 100), "tags": tags})
            old = remember(record)
        elif choice < 0.40:
            content = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 32 << 10)))
            body, content_type = multipart({"title": f"file soak {rng.randint(0, 99)}", "n": str(rng.randint(0, 100))},
                                           [("doc", f"f{rng.randint(0, 9)}.bin", content)])
            _, record = client.call("upload", "POST", "/api/collections/soak/records", body, content_type)
            old = remember(record)
            if isinstance(record, dict) and record.get("doc"):
                name = record["doc"][0] if isinstance(record["doc"], list) else record["doc"]
                status, data = client.call("download", "GET", f"/api/files/soak/{record['id']}/{urllib.parse.quote(name)}")
                if status == 200 and data != content:
                    fail(f"downloaded {name} differs from the upload ({len(data or b'')} of {len(content)} bytes)")
        else:
            query = urllib.parse.urlencode({"filter": rng.choice(FILTERS), "sort": rng.choice(SORTS),
                                            "perPage": rng.choice([5, 30, 100]), "page": rng.randint(1, 3)})
            client.call("list", "GET", f"/api/collections/soak/records?{query}")
            old = None
        if old:
            client.call("delete", "DELETE", f"/api/collections/soak/records/{old}", expect=(204, 404))


def subscriber(token, seed):
    """Connects, subscribes to the collection, reads events for a few seconds, disconnects; again."""
    rng = random.Random(seed)
    while not stop.is_set():
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.request("GET", "/api/realtime")
            response = connection.getresponse()
            note("sse-connect", response.status)
            if response.status != 200:
                fail(f"GET /api/realtime: {response.status}")
                time.sleep(1)
                continue
            client_id = None
            while client_id is None:
                line = response.fp.readline()
                if not line:
                    break
                if line.startswith(b"id:"):
                    client_id = line[3:].strip().decode()
            if client_id is None:
                fail("the realtime stream ended before its PB_CONNECT event")
                continue
            Client(token if rng.random() < 0.5 else None).call(
                "sse-subscribe", "POST", "/api/realtime", {"clientId": client_id, "subscriptions": ["soak"]}, expect=(204,))
            until = time.time() + rng.uniform(2, 8)
            events = 0
            while time.time() < until and not stop.is_set():
                line = response.fp.readline()
                if not line:
                    break
                if line.startswith(b"event:"):
                    events += 1
            note("sse-events", "read")
            with lock:
                counts["sse-events total"] = counts.get("sse-events total", 0) + events
        except (ConnectionError, http.client.HTTPException, OSError) as error:
            if not stop.is_set():
                note("sse-connect", "connection-error")
                fail(f"realtime: {error!r}")
        finally:
            connection.close()


def enqueue_jobs():
    while not stop.wait(10):
        result = subprocess.run([burg, "jobs", "enqueue", "noop", "--count", "25", "--data-dir", data_dir],
                                capture_output=True, text=True)
        note("jobs-enqueue", result.returncode)
        if result.returncode != 0:
            fail(f"burg jobs enqueue: exit {result.returncode}: {result.stderr[-300:]}")


def rss_kib():
    with open(f"/proc/{server_pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


token = setup()
threads = [threading.Thread(target=load, args=(token, i), daemon=True) for i in range(LOAD_THREADS)]
threads += [threading.Thread(target=subscriber, args=(token, 100 + i), daemon=True) for i in range(SSE_CLIENTS)]
threads.append(threading.Thread(target=enqueue_jobs, daemon=True))
started = time.time()
for thread in threads:
    thread.start()
samples = []
while time.time() - started < seconds:
    time.sleep(RSS_INTERVAL)
    samples.append(rss_kib())
stop.set()
for thread in threads:
    thread.join(timeout=15)
elapsed = time.time() - started

third = max(1, len(samples) // 3)
middle = statistics.median(samples[third:2 * third] or samples)
last = statistics.median(samples[-third:])
growth = (last - middle) / middle if middle else 0
if growth > RSS_MARGIN:
    fail(f"RSS grows after warm-up: last third's median {last} KiB is {growth:.1%} over the middle third's {middle} KiB")
requests = sum(n for key, n in counts.items() if not key.startswith(("sse-events", "jobs-enqueue")))
summary = {
    "seconds": round(elapsed, 1), "requests": requests, "requests_per_second": round(requests / elapsed, 1),
    "counts": dict(sorted(counts.items())), "rss_kib": {"first": samples[0] if samples else 0, "min": min(samples, default=0),
    "max": max(samples, default=0), "middle_third_median": middle, "last_third_median": last, "growth": round(growth, 4),
    "samples": len(samples)}, "failures": failures,
}
print(json.dumps(summary))
sys.exit(1 if failures else 0)
