#!/usr/bin/python3
"""The command rekey's `exec` rotator runs to rotate keys at the test provider
(tests/integration/api_key_provider.py), through the provider's admin API.

It follows docs/rotators/exec.md: the step document arrives on stdin, the answer goes to stdout
as JSON, the exit status says how the step went (0 ok, 2 value rejected, 3 permission denied,
anything else: failed, try again later). It prints nothing secret to stderr.

Configure it with the rotator's params, e.g.
  {"command": ["/usr/bin/python3", "<src>/tests/integration/exec_provider_client.py"],
   "env": {"PROVIDER_URL": "http://127.0.0.1:<port>", "PROVIDER_ADMIN_TOKEN": "<token>"}}
(PROVIDER_ADMIN_TOKEN only when the provider runs with --admin-token; a real script would read
such a token from a file, not from the rotation config.)

Steps:
  check    GET /admin/keys (reachable, token accepted)
  create   POST /admin/keys with the step's idempotency key: the same key again when rekey
           resumes a create after a crash
  set      value_source "rekey": registers the generated key; otherwise nothing to do
  test     GET /whoami with the pending key: 200 or exit 2
  finish   nothing to do
  revoke   revokes the previous key (by key_id, else by looking the key up)
  rollback revokes the pending key and any key minted for this run attempt
"""

import json
import os
import sys
import urllib.error
import urllib.request

EXIT_OK, EXIT_FAILED, EXIT_REJECTED, EXIT_DENIED = 0, 1, 2, 3


class Denied(Exception):
    pass


def answer(doc, code=EXIT_OK):
    sys.stdout.write(json.dumps(doc))
    sys.stdout.flush()
    sys.exit(code)


def call(method, path, body=None, bearer=None):
    """(status, parsed body) of a call to the provider; raises OSError when unreachable."""
    url = os.environ["PROVIDER_URL"].rstrip("/") + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    token = bearer if bearer is not None else os.environ.get("PROVIDER_ADMIN_TOKEN")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"{}")
        except ValueError:
            return e.code, {}


def admin(method, path, body=None):
    status, doc = call(method, path, body)
    if status in (401, 403):
        raise Denied()
    return status, doc


def value_of(doc, which):
    v = doc.get(which) or {}
    return v.get("value") or {}


def revoke(key_id=None, api_key=None):
    # The key itself first: with rekey-generated values the value's key_id can be stale.
    if api_key:
        _, listing = admin("GET", "/admin/keys")
        for k in listing.get("keys", []):
            if k["api_key"] == api_key:
                key_id = k["key_id"]
    if key_id is None:
        return None
    status, _ = admin("POST", "/admin/keys/%s/revoke" % key_id, {})
    if status not in (200, 404):
        raise OSError("revoke answered %d" % status)
    return key_id


def main():
    doc = json.load(sys.stdin)
    step, field = doc["step"], doc.get("field") or "api_key"
    # Progress goes to stderr; never a key.
    sys.stderr.write("exec_provider_client: %s for %s\n" % (step, doc.get("secret")))

    if step == "check":
        status, listing = admin("GET", "/admin/keys")
        if status != 200:
            answer({"message": "admin API answered %d" % status}, EXIT_FAILED)
        answer({"message": "provider reachable, %d keys" % len(listing.get("keys", []))})

    if step == "create":
        status, key = admin("POST", "/admin/keys", {"secret": doc["secret"],
                                                   "idempotency_key": doc["idempotency_key"]})
        if status != 200:
            answer({"message": "minting answered %d" % status}, EXIT_FAILED)
        answer({"value": {field: key["api_key"], "key_id": key["key_id"]},
                "state": {"pending_key_id": key["key_id"]}})

    if step == "set":
        if doc.get("value_source") == "rekey":
            key = value_of(doc, "pending").get(field)
            status, rec = admin("POST", "/admin/keys", {"secret": doc["secret"], "api_key": key,
                                                       "idempotency_key": doc["idempotency_key"]})
            if status != 200 or rec.get("status") != "active":
                answer({"message": "the provider refused the key"}, EXIT_REJECTED)
            answer({"state": {"pending_key_id": rec["key_id"]}})
        answer({})

    if step == "test":
        key = value_of(doc, "pending").get(field)
        if not key:
            answer({"message": "no pending key"}, EXIT_REJECTED)
        status, _ = call("GET", "/whoami", bearer=key)
        if status == 200:
            answer({"message": "pending key works"})
        if status == 401:
            answer({"message": "the provider refuses the pending key"}, EXIT_REJECTED)
        answer({"message": "whoami answered %d" % status}, EXIT_FAILED)

    if step == "finish":
        pending_id = (doc.get("state") or {}).get("pending_key_id")
        answer({"state": {"pending_key_id": None, "active_key_id": pending_id}}
               if pending_id else {})

    if step == "revoke":
        prev = value_of(doc, "previous")
        key_id = revoke(prev.get("key_id"), prev.get(field))
        answer({"message": "revoked %s" % key_id if key_id else "previous key unknown"})

    if step == "rollback":
        revoked = []
        pend = value_of(doc, "pending")
        pending_id = pend.get("key_id") or (doc.get("state") or {}).get("pending_key_id")
        k = revoke(pending_id, pend.get(field))
        if k:
            revoked.append(k)
        # A key minted by a create whose answer rekey never stored.
        minted_by = "%s:create:%s" % (doc["run_id"], doc["attempt"])
        _, listing = admin("GET", "/admin/keys")
        for rec in listing.get("keys", []):
            if rec["created_by"] == minted_by and rec["status"] == "active":
                revoked.append(revoke(rec["key_id"]))
        answer({"state": {"pending_key_id": None},
                "message": "revoked %s" % (", ".join(revoked) or "nothing")})

    answer({"message": "unknown step"}, EXIT_FAILED)


if __name__ == "__main__":
    try:
        main()
    except Denied:
        answer({"message": "the provider's admin API refused the token"}, EXIT_DENIED)
    except OSError as e:
        answer({"message": "provider unreachable: %s" % type(e).__name__}, EXIT_FAILED)
