"""Drives a live `burg serve` with PocketBase's official Python SDK (PyPI `pocketbase`), unmodified calls
only. Usage: pocketbase_sdk_check.py URL SUPERUSER_EMAIL SUPERUSER_PASSWORD. Prints "ok" on success;
any failed check raises (non-zero exit, traceback on stderr)."""
import json
import sys
import urllib.error
import urllib.request

from pocketbase import PocketBase
from pocketbase.errors import ClientResponseError
from pocketbase.models import FileUpload

url, email, password = sys.argv[1:4]
pb = PocketBase(url)

# Superuser auth, then a collection through the collections API.
auth = pb.collection("_superusers").auth_with_password(email, password)
assert auth.token and auth.record.email == email, auth.record
# The relation names its target by collectionId, as PocketBase's own schemas do.
users_id = pb.collections.get_one("users").id
pb.collections.create({
    "name": "sdk_notes", "type": "base",
    "listRule": "", "viewRule": "", "createRule": "@request.auth.id != ''",
    "updateRule": "owner = @request.auth.id", "deleteRule": "owner = @request.auth.id",
    "fields": [
        {"name": "title", "type": "text", "required": True},
        {"name": "n", "type": "number"},
        {"name": "owner", "type": "relation", "collectionId": users_id, "maxSelect": 1},
        {"name": "photos", "type": "file", "maxSelect": 3, "maxSize": 1000000},
        {"name": "private", "type": "file", "protected": True},
    ],
    # Indexes as PocketBase's SQL strings, answered back as strings.
    "indexes": ["CREATE INDEX idx_sdk_notes_n ON sdk_notes (n DESC)", "CREATE INDEX idx_sdk_notes_owner ON sdk_notes (owner, title COLLATE NOCASE)"],
})
try:
    pb.collections.create({"name": "sdk_bad", "fields": [{"name": "a", "type": "text"}], "indexes": ["DROP TABLE users"]})
    raise AssertionError("a non-index statement was accepted")
except ClientResponseError as error:
    assert error.status == 400 and error.data["data"]["indexes"]["0"]["code"] == "validation_invalid_index_expression", error.data

request = urllib.request.Request(url.rstrip("/") + "/api/collections/sdk_notes", headers={"Authorization": pb.auth_store.token})
with urllib.request.urlopen(request) as response:
    # This SDK's Collection model predates `fields` and `indexes`, so the definition is read as JSON.
    definition = json.load(response)
    owner = next(field for field in definition["fields"] if field["name"] == "owner")
    assert owner["collectionId"] == users_id, owner
    assert definition["indexes"] == [
        "CREATE INDEX idx_sdk_notes_n ON sdk_notes (n DESC)", "CREATE INDEX idx_sdk_notes_owner ON sdk_notes (owner, title COLLATE NOCASE)"], definition

# A user signs up and signs in.
users = pb.collection("users")
user = users.create({"email": "sdk@example.org", "password": "sdk password 123", "passwordConfirm": "sdk password 123"})
pb.auth_store.clear()
signed_in = users.auth_with_password("sdk@example.org", "sdk password 123")
assert signed_in.record.id == user.id and pb.auth_store.token

# CRUD as that user.
notes = pb.collection("sdk_notes")
created = [notes.create({"title": f"note {i}", "n": i, "owner": user.id}) for i in range(12)]
one = notes.get_one(created[0].id)
assert one.title == "note 0" and one.n == 0, vars(one)
changed = notes.update(created[1].id, {"title": "changed"})
assert changed.title == "changed" and changed.n == 1
assert notes.delete(created[2].id)
try:
    notes.get_one(created[2].id)
    raise AssertionError("a deleted record was found")
except ClientResponseError as error:
    assert error.status == 404, error.status

# List with filter, sort and paging.
page = notes.get_list(2, 4, {"filter": "n >= 3 && title ~ 'note'", "sort": "-n"})
assert page.total_items == 9 and page.total_pages == 3 and page.page == 2, vars(page)
assert [item.n for item in page.items] == [7, 6, 5, 4], [item.n for item in page.items]
everything = notes.get_full_list(batch=5, query_params={"sort": "n"})
assert [item.n for item in everything] == [0, 1] + list(range(3, 12))

# File upload (multipart), download by the SDK's URL, a protected file with a file token.
png = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + bytes(range(256)) * 4
with_files = notes.create({
    "title": "with files", "n": 100, "owner": user.id,
    "photos": FileUpload(("face.png", png, "image/png"), ("back.png", png[::-1], "image/png")),
    "private": FileUpload(("secret.txt", b"for the owner only", "text/plain")),
})
assert with_files.n == 100 and len(with_files.photos) == 2, vars(with_files)
assert with_files.photos[0].startswith("face_") and with_files.photos[0].endswith(".png"), with_files.photos
with urllib.request.urlopen(pb.files.get_url(with_files, with_files.photos[0])) as response:
    assert response.read() == png and response.headers["Content-Type"] == "image/png"
try:
    urllib.request.urlopen(pb.files.get_url(with_files, with_files.private))
    raise AssertionError("a protected file was served without a token")
except urllib.error.HTTPError as error:
    assert error.code in (401, 403, 404), error.code
file_token = pb.files.get_token()
with urllib.request.urlopen(pb.files.get_url(with_files, with_files.private, {"token": file_token})) as response:
    assert response.read() == b"for the owner only"
more = notes.update(with_files.id, {"photos+": FileUpload(("side.png", png, "image/png")), "title": "three photos"})
assert len(more.photos) == 3 and more.title == "three photos", vars(more)
notes.delete(with_files.id)

# Errors come back in PocketBase's shape.
try:
    notes.create({"n": "many"})
    raise AssertionError("an invalid record was created")
except ClientResponseError as error:
    assert error.status == 400 and "title" in error.data.get("data", {}), error.data

# A record fetched and saved back whole (collectionId, collectionName, created, updated, expand and a
# key the schema does not have ride along) is accepted; those keys change nothing.
request = urllib.request.Request(url.rstrip("/") + f"/api/collections/sdk_notes/records/{created[5].id}?expand=owner",
                                 headers={"Authorization": pb.auth_store.token})
with urllib.request.urlopen(request) as response:
    fetched = json.load(response)
assert fetched["expand"]["owner"]["id"] == user.id, fetched
fetched["title"] = "saved back"
fetched["gone_field"] = "ignored"
saved = notes.update(created[5].id, fetched)
assert saved.title == "saved back" and saved.n == 5 and saved.owner == user.id, vars(saved)
with urllib.request.urlopen(urllib.request.Request(request.full_url.split("?")[0], headers={"Authorization": pb.auth_store.token})) as response:
    again = json.load(response)
assert again["created"] == fetched["created"] and "gone_field" not in again and "expand" not in again, again

# A batch: create, update, upsert and delete in one transaction, then one that fails and keeps nothing.
batch = pb.create_batch()
batch.collection("sdk_notes").create({"title": "batched 1", "n": 201, "owner": user.id})
batch.collection("sdk_notes").update(created[3].id, {"title": "batched update"})
batch.collection("sdk_notes").upsert({"id": "sdkupsert000001", "title": "batched upsert", "n": 202, "owner": user.id})
batch.collection("sdk_notes").delete(created[4].id)
results = batch.send()
assert [result["status"] for result in results] == [200, 200, 200, 204], results
assert results[2]["body"]["id"] == "sdkupsert000001" and notes.get_one(created[3].id).title == "batched update"
failing = pb.create_batch()
failing.collection("sdk_notes").create({"title": "never kept", "n": 203, "owner": user.id})
failing.collection("sdk_notes").create({"n": 204})  # no title: required
try:
    failing.send()
    raise AssertionError("a failing batch was accepted")
except ClientResponseError as error:
    item = error.data["data"]["requests"]["1"]
    assert error.status == 400 and item["code"] == "batch_request_failed" and "title" in item["response"]["data"], error.data
assert notes.get_list(1, 1, {"filter": "title = 'never kept'"}).total_items == 0

# The token refreshes; a guest cannot create.
refreshed = users.auth_refresh()
assert refreshed.token and refreshed.record.id == user.id
pb.auth_store.clear()
try:
    notes.create({"title": "anonymous", "n": 1})
    raise AssertionError("a guest created a record")
except ClientResponseError as error:
    assert error.status in (400, 403), error.status

# Settings: PocketBase's keys in its order, a partial update merged and answered whole, secrets never
# answered, a fetched object saved back unchanged, field errors in PocketBase's shape.
pb.collection("_superusers").auth_with_password(email, password)
settings = pb.settings.get_all()
assert list(settings) == ["superuserIPs", "smtp", "backups", "s3", "meta", "rateLimits", "trustedProxy", "batch", "logs"], list(settings)
assert settings["meta"]["appName"] == "Acme" and settings["batch"]["enabled"] is True, settings
updated = pb.settings.update({"meta": {"appName": "SDK App"}, "smtp": {"password": "sdk-secret"}})
assert updated["meta"]["appName"] == "SDK App" and updated["meta"]["appURL"] == settings["meta"]["appURL"], updated
assert "password" not in updated["smtp"] and "sdk-secret" not in json.dumps(updated), updated["smtp"]
assert pb.settings.update(pb.settings.get_all()) == updated
try:
    pb.settings.update({"meta": {"senderAddress": "bad"}})
    raise AssertionError("an invalid sender address was accepted")
except ClientResponseError as error:
    assert error.status == 400 and error.data["data"]["meta"]["senderAddress"]["code"] == "validation_is_email", error.data
assert pb.settings.get_all()["meta"]["senderAddress"] == settings["meta"]["senderAddress"]

print("ok")
