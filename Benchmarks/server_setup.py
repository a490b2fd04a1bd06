"""Sets up the same collection, data and user on Burg or PocketBase through their HTTP API (the same
calls for both), for Benchmarks/server.sh. Usage: server_setup.py URL SUPERUSER PASSWORD ROWS [--skip-rows]"""
import http.client
import json
import sys
import urllib.parse

from records_data import rows

url, email, password, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
skip_rows = "--skip-rows" in sys.argv
parts = urllib.parse.urlparse(url)
connection = http.client.HTTPConnection(parts.hostname, parts.port)


def call(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = token
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    data = response.read()
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
    return json.loads(data) if data else {}


token = call("POST", "/api/collections/_superusers/auth-with-password", {"identity": email, "password": password})["token"]
fields = [
    {"name": "code", "type": "text", "required": True}, {"name": "title", "type": "text", "searchable": True},
    {"name": "customer", "type": "text"}, {"name": "email", "type": "email"}, {"name": "qty", "type": "number"},
    {"name": "price", "type": "number"}, {"name": "paid", "type": "bool"}, {"name": "due", "type": "date"},
    {"name": "status", "type": "select", "values": ["open", "done", "hold"], "maxSelect": 1}, {"name": "notes", "type": "text"},
]
definition = {"name": "orders", "type": "base", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": None,
              "fields": fields}
if "pocketbase" in sys.argv:
    del fields[1]["searchable"]  # PocketBase has no full-text option: `~` is a LIKE scan there
    definition["indexes"] = ["CREATE UNIQUE INDEX idx_orders_code ON orders (code)", "CREATE INDEX idx_orders_status ON orders (status)"]
else:
    fields[0]["unique"] = True
    definition["indexes"] = [{"name": "status", "fields": ["status"]}]
call("POST", "/api/collections", definition, token)
call("POST", "/api/collections/users/records",
     {"email": "bench@example.org", "password": "bench password 123", "passwordConfirm": "bench password 123"})
if not skip_rows:
    for row in rows(count):
        call("POST", "/api/collections/orders/records", row, token)
print("ready")
