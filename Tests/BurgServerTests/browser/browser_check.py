"""A web app in real headless Chromium, served from a second loopback port, calls a live Burg:
the CORS preflight, a sign-in, a realtime subscription to `notes/*` over EventSource, a create that
arrives as an event, and a list. Prints "ok" when every step passed.

Usage: browser_check.py BURG_URL SUPERUSER_EMAIL SUPERUSER_PASSWORD
Needs Debian's chromium and chromium-driver, and selenium (scripts/install-python-tools.sh)."""

import http.server
import json
import shutil
import sys
import threading
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

burg, admin_email, admin_password = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]


def api(method, path, body=None, token=None, headers=None):
    request = urllib.request.Request(burg + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", token)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    with urllib.request.urlopen(request) as response:
        raw = response.read()
        return response.status, dict(response.headers), json.loads(raw) if raw else None


_, _, signed = api("POST", "/api/collections/_superusers/auth-with-password", {"identity": admin_email, "password": admin_password})
admin = signed["token"]
signed_in = "@request.auth.id != ''"
api("POST", "/api/collections", {"name": "notes", "listRule": signed_in, "viewRule": signed_in, "createRule": signed_in,
                                 "fields": [{"name": "title", "type": "text", "required": True}]}, token=admin)
api("POST", "/api/collections/users/records", {"email": "browser@example.org", "password": "browser password 1",
                                               "passwordConfirm": "browser password 1"})

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>browser check</title></head>
<body><main><h1>browser check</h1><p id="state">running</p></main>
<script>
const burg = new URLSearchParams(location.search).get("burg");
const steps = [];
function within(ms, promise, what) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(what + " timed out")), ms))]);
}
async function run() {
  const json = {"Content-Type": "application/json"};
  const signIn = await fetch(burg + "/api/collections/users/auth-with-password", {method: "POST", headers: json,
    body: JSON.stringify({identity: "browser@example.org", password: "browser password 1"})});
  const auth = await signIn.json();
  if (!signIn.ok || !auth.token) throw new Error("sign-in: " + signIn.status + " " + JSON.stringify(auth));
  steps.push("sign-in");
  const token = auth.token;
  const events = new EventSource(burg + "/api/realtime");
  const clientId = await within(10000, new Promise((resolve, reject) => {
    events.addEventListener("PB_CONNECT", (event) => resolve(JSON.parse(event.data).clientId));
    events.onerror = () => reject(new Error("the event stream failed"));
  }), "PB_CONNECT");
  steps.push("connect");
  const created = new Promise((resolve) => events.addEventListener("notes/*", (event) => resolve(JSON.parse(event.data))));
  const subscribe = await fetch(burg + "/api/realtime", {method: "POST", headers: {...json, Authorization: token},
    body: JSON.stringify({clientId, subscriptions: ["notes/*"]})});
  if (subscribe.status !== 204) throw new Error("subscribe: " + subscribe.status + " " + await subscribe.text());
  steps.push("subscribe");
  const create = await fetch(burg + "/api/collections/notes/records", {method: "POST", headers: {...json, Authorization: token},
    body: JSON.stringify({title: "from the browser"})});
  const record = await create.json();
  if (create.status !== 200) throw new Error("create: " + create.status + " " + JSON.stringify(record));
  steps.push("create");
  const event = await within(10000, created, "the realtime event");
  if (event.action !== "create" || event.record.id !== record.id || event.record.title !== "from the browser")
    throw new Error("event: " + JSON.stringify(event));
  steps.push("event");
  const list = await fetch(burg + "/api/collections/notes/records?filter=" + encodeURIComponent("title = 'from the browser'"),
    {headers: {Authorization: token}});
  const page = await list.json();
  if (list.status !== 200 || page.totalItems !== 1 || page.items[0].id !== record.id) throw new Error("list: " + JSON.stringify(page));
  steps.push("list");
  const guest = await fetch(burg + "/api/collections/notes/records");
  if (guest.status === 200 && (await guest.json()).totalItems !== 0) throw new Error("a guest saw the signed-in list");
  events.close();
  return steps;
}
run().then((done) => { window.result = {ok: true, steps: done}; document.getElementById("state").textContent = "ok"; },
           (error) => { window.result = {ok: false, steps, error: String(error)}; document.getElementById("state").textContent = "failed"; });
</script></body></html>
"""


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
threading.Thread(target=site.serve_forever, daemon=True).start()
origin = f"http://127.0.0.1:{site.server_address[1]}"

# The preflight the page's requests cause, checked as the browser reads it.
status, headers, _ = api("OPTIONS", "/api/collections/notes/records", headers={
    "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"})
headers = {key.lower(): value for key, value in headers.items()}
assert status in (200, 204), status
assert headers.get("access-control-allow-origin") in ("*", origin), headers
assert "authorization" in headers.get("access-control-allow-headers", "").lower(), headers
assert "POST" in headers.get("access-control-allow-methods", "").upper(), headers

options = webdriver.ChromeOptions()
options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
try:
    driver.set_script_timeout(30)
    driver.get(f"{origin}/?burg={burg}")
    result = None
    for _ in range(300):
        result = driver.execute_script("return window.result || null")
        if result:
            break
        driver.implicitly_wait(0)
        threading.Event().wait(0.1)
    assert result and result.get("ok"), result
    assert result["steps"] == ["sign-in", "connect", "subscribe", "create", "event", "list"], result
finally:
    driver.quit()
    site.shutdown()
print("ok")
