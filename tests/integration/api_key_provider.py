#!/usr/bin/python3
"""A small API-key provider for testing rekey's `http` and `exec` rotators (stdlib only).

It issues and revokes API keys, and rejects revoked ones:

  Application API (what a client of the provider uses):
    GET  /whoami          Authorization: Bearer <api key>
                          -> 200 {"key_id", "secret"} while the key is active,
                             401 {"message"} when it is unknown or revoked.

  Webhook (rekey's http rotator protocol, docs/rotators/http.md):
    POST /webhook         X-Rekey-Signature: t=<unix>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>
                          Idempotency-Key: <run_id>:<step>:<attempt>
                          body: the step document; answers {"value"?, "state"?, "message"?}.
      check    -> 200, says how many keys are active
      create   -> mints a key: {"value": {"api_key", "key_id"}, "state": {"pending_key_id"}}
                  (value_source "rekey": not called)
      set      -> provider mode: 409 unless the pending key is active; rekey mode: registers
                  pending.value[field] as a new active key
      test     -> 200 if the pending key is active, else 422
      finish   -> 200 {"state": {"pending_key_id": null, "active_key_id"}}
      revoke   -> revokes the previous key (unknown: 200 with a message)
      rollback -> revokes the pending key and any key minted for this run attempt
    Replays of an Idempotency-Key get the first answer again (2xx and 4xx answers are kept).

  Admin API (for tests and for tests/integration/exec_provider_client.py); with --admin-token,
  every /admin call needs "Authorization: Bearer <token>":
    GET    /admin/keys                 -> {"keys": [{key_id, api_key, status, secret, created_by}]}
    POST   /admin/keys                 {"api_key"?, "secret"?, "idempotency_key"?} -> mints (or
                                       registers api_key); idempotent per idempotency_key
    POST   /admin/keys/<id>/revoke     -> {"key_id", "status": "revoked"} (404 if unknown)
    GET    /admin/requests             -> {"requests": [{step, headers, body, verified}]}
    DELETE /admin/requests
    POST   /admin/faults               {"step", "status"?, "count"?, "delay"?, "message"?}:
                                       the next `count` webhook calls for `step` ("*" = any)
                                       sleep `delay` seconds, then answer `status` (if set)
    DELETE /admin/faults
    POST   /admin/reset                -> forget keys, requests, faults and idempotency records

Usage:
  /usr/bin/python3 api_key_provider.py --port 0 --port-file F --hmac-key KEY [--admin-token T]
It prints "PORT <n>" on stdout once it listens on 127.0.0.1:<n> (and writes <n> to --port-file).
"""

import argparse
import hashlib
import hmac
import itertools
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STEPS = ("check", "create", "set", "test", "finish", "revoke", "rollback")
MAX_BODY = 1 << 20


class Provider:
    """All state, behind one lock."""

    def __init__(self, hmac_key, max_skew, admin_token):
        self.hmac_key = hmac_key
        self.max_skew = max_skew
        self.admin_token = admin_token
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.keys = {}          # key_id -> record
        self.by_api_key = {}    # api key -> key_id
        self.idempotent = {}    # idempotency key -> (status, answer)
        self.admin_idem = {}    # admin idempotency key -> key_id
        self.requests = []
        self.faults = []
        self.ids = itertools.count(1)

    # --- keys (lock held) ---
    def mint(self, secret, created_by, api_key=None):
        key_id = "k_%d" % next(self.ids)
        if api_key is None:
            api_key = "ak_" + secrets.token_hex(16)
        self.keys[key_id] = {"key_id": key_id, "api_key": api_key, "status": "active",
                             "secret": secret, "created_by": created_by,
                             "created_at": time.time(), "revoked_at": None}
        self.by_api_key[api_key] = key_id
        return self.keys[key_id]

    def find(self, api_key=None, key_id=None):
        # The key itself first: with rekey-generated values the value's other members
        # (a key_id from an earlier rotation) can be stale.
        if api_key is not None and api_key in self.by_api_key:
            return self.keys[self.by_api_key[api_key]]
        if key_id is not None and key_id in self.keys:
            return self.keys[key_id]
        return None

    def revoke(self, rec):
        if rec["status"] != "revoked":
            rec["status"] = "revoked"
            rec["revoked_at"] = time.time()

    # --- signature ---
    def verify(self, header, body):
        if self.hmac_key is None:
            return True, ""
        parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
        t, v1 = parts.get("t", ""), parts.get("v1", "")
        if not t.isdigit() or not v1:
            return False, "missing or malformed X-Rekey-Signature"
        if self.max_skew > 0 and abs(time.time() - int(t)) > self.max_skew:
            return False, "signature timestamp outside the allowed skew"
        want = hmac.new(self.hmac_key, t.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, v1):
            return False, "bad signature"
        return True, ""

    # --- webhook steps (lock held); return (status, answer) ---
    def step(self, doc):
        if doc.get("protocol") != 1:
            return 400, {"message": "unsupported protocol version"}
        step = doc.get("step")
        field = doc.get("field") or "api_key"
        secret = doc.get("secret", "")

        def value_of(which):
            v = doc.get(which) or {}
            return v.get("value") or {}

        if step == "check":
            active = sum(1 for k in self.keys.values()
                         if k["secret"] == secret and k["status"] == "active")
            return 200, {"message": "ok: %d active keys for %s" % (active, secret)}
        if step == "create":
            rec = self.mint(secret, doc.get("idempotency_key", ""))
            return 200, {"value": {field: rec["api_key"], "key_id": rec["key_id"]},
                         "state": {"pending_key_id": rec["key_id"]}}
        if step == "set":
            key = value_of("pending").get(field)
            if not key:
                return 400, {"message": "no pending key"}
            rec = self.find(api_key=key)
            if doc.get("value_source") == "rekey":
                if rec is None:
                    rec = self.mint(secret, doc.get("idempotency_key", ""), api_key=key)
                elif rec["status"] != "active":
                    return 409, {"message": "that key was revoked"}
                return 200, {"state": {"pending_key_id": rec["key_id"]}}
            if rec is None or rec["status"] != "active":
                return 409, {"message": "the pending key is not active here"}
            return 200, {}
        if step == "test":
            rec = self.find(api_key=value_of("pending").get(field))
            if rec is None or rec["status"] != "active":
                return 422, {"message": "the pending key does not work"}
            return 200, {"message": "pending key %s works" % rec["key_id"]}
        if step == "finish":
            state = dict(doc.get("state") or {})
            active = state.get("pending_key_id")
            out = {"pending_key_id": None}
            if active:
                out["active_key_id"] = active
            return 200, {"state": out}
        if step == "revoke":
            prev = value_of("previous")
            rec = self.find(api_key=prev.get(field), key_id=prev.get("key_id"))
            if rec is None:
                return 200, {"message": "previous key unknown; nothing to revoke"}
            self.revoke(rec)
            return 200, {"message": "revoked %s" % rec["key_id"]}
        if step == "rollback":
            revoked = []
            pend = value_of("pending")
            rec = self.find(api_key=pend.get(field), key_id=pend.get("key_id"))
            if rec is not None:
                self.revoke(rec)
                revoked.append(rec["key_id"])
            prefix = "%s:create:%s" % (doc.get("run_id"), doc.get("attempt"))
            for rec in self.keys.values():
                if rec["created_by"] == prefix and rec["status"] != "revoked":
                    self.revoke(rec)
                    revoked.append(rec["key_id"])
            return 200, {"state": {"pending_key_id": None},
                         "message": "revoked %s" % (", ".join(revoked) or "nothing")}
        return 400, {"message": "unknown step"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "api-key-provider/1"

    @property
    def provider(self):
        return self.server.provider

    def log_message(self, fmt, *args):  # quiet; --verbose logs request lines to stderr
        if self.server.verbose:
            sys.stderr.write("provider: %s\n" % (fmt % args))

    def reply(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def bearer(self):
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None

    def admin_ok(self):
        token = self.provider.admin_token
        if token and not hmac.compare_digest((self.bearer() or "").encode(), token.encode()):
            self.reply(401, {"message": "admin token required"})
            return False
        return True

    # --- routes ---
    def do_GET(self):
        p = self.provider
        if self.path == "/whoami":
            key = self.bearer()
            with p.lock:
                rec = p.find(api_key=key) if key else None
                ok = rec is not None and rec["status"] == "active"
                doc = {"key_id": rec["key_id"], "secret": rec["secret"]} if ok else None
            if ok:
                return self.reply(200, doc)
            return self.reply(401, {"message": "unknown or revoked key"})
        if self.path == "/admin/keys":
            if not self.admin_ok():
                return
            with p.lock:
                keys = [{k: r[k] for k in ("key_id", "api_key", "status", "secret", "created_by")}
                        for r in p.keys.values()]
            return self.reply(200, {"keys": keys})
        if self.path == "/admin/requests":
            if not self.admin_ok():
                return
            with p.lock:
                return self.reply(200, {"requests": list(p.requests)})
        return self.reply(404, {"message": "not found"})

    def do_DELETE(self):
        p = self.provider
        if not self.admin_ok():
            return
        with p.lock:
            if self.path == "/admin/requests":
                p.requests.clear()
            elif self.path == "/admin/faults":
                p.faults.clear()
            else:
                return self.reply(404, {"message": "not found"})
        return self.reply(200, {})

    def do_POST(self):
        try:
            body = self.read_body()
        except ValueError:
            self.close_connection = True
            return self.reply(413, {"message": "body too large"})
        if self.path == "/webhook":
            return self.webhook(body)
        if not self.path.startswith("/admin/"):
            return self.reply(404, {"message": "not found"})
        if not self.admin_ok():
            return
        try:
            doc = json.loads(body) if body.strip() else {}
        except ValueError:
            return self.reply(400, {"message": "body is not JSON"})
        p = self.provider
        with p.lock:
            if self.path == "/admin/reset":
                p.reset()
                return self.reply(200, {})
            if self.path == "/admin/faults":
                fault = {"step": doc.get("step", "*"), "status": doc.get("status"),
                         "count": int(doc.get("count", 1)), "delay": float(doc.get("delay", 0)),
                         "message": doc.get("message", "injected fault")}
                p.faults.append(fault)
                return self.reply(200, {})
            if self.path == "/admin/keys":
                idem = doc.get("idempotency_key")
                if idem and idem in p.admin_idem:
                    rec = p.keys[p.admin_idem[idem]]
                elif doc.get("api_key") and p.find(api_key=doc["api_key"]) is not None:
                    rec = p.find(api_key=doc["api_key"])
                else:
                    rec = p.mint(doc.get("secret", ""), idem or "admin", api_key=doc.get("api_key"))
                    if idem:
                        p.admin_idem[idem] = rec["key_id"]
                return self.reply(200, {"api_key": rec["api_key"], "key_id": rec["key_id"],
                                        "status": rec["status"]})
            m = re.fullmatch(r"/admin/keys/([A-Za-z0-9_]+)/revoke", self.path)
            if m:
                rec = p.find(key_id=m.group(1))
                if rec is None:
                    return self.reply(404, {"message": "unknown key id"})
                p.revoke(rec)
                return self.reply(200, {"key_id": rec["key_id"], "status": rec["status"]})
        return self.reply(404, {"message": "not found"})

    def webhook(self, body):
        p = self.provider
        ok, why = p.verify(self.headers.get("X-Rekey-Signature"), body)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        step = doc.get("step") if isinstance(doc, dict) else None
        record = {"step": step, "verified": ok, "body": doc,
                  "headers": {k.lower(): v for k, v in self.headers.items()
                              if k.lower().startswith("x-rekey-") or
                              k.lower() in ("idempotency-key", "content-type", "x-custom")}}
        fault = None
        with p.lock:
            p.requests.append(record)
            for f in p.faults:
                if f["count"] > 0 and f["step"] in ("*", step):
                    f["count"] -= 1
                    fault = dict(f)
                    break
        if fault is not None:
            if fault["delay"] > 0:
                time.sleep(fault["delay"])
            if fault["status"]:
                return self.reply(int(fault["status"]), {"message": fault["message"]})
        if not ok:
            return self.reply(401, {"message": why})
        if not isinstance(doc, dict) or step not in STEPS:
            return self.reply(400, {"message": "not a rekey step document"})
        idem = self.headers.get("Idempotency-Key") or doc.get("idempotency_key")
        with p.lock:
            if idem and idem in p.idempotent:
                # A redelivery (transport retry, or rekey resuming after a crash): the first
                # answer again, so a repeated create returns the key it already minted.
                status, answer = p.idempotent[idem]
                return self.reply(status, answer)
            status, answer = p.step(doc)
            if idem and status < 500:
                p.idempotent[idem] = (status, answer)
        return self.reply(status, answer)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--hmac-key", help="webhook signing key")
    ap.add_argument("--hmac-key-file", help="file holding the webhook signing key")
    ap.add_argument("--no-verify", action="store_true", help="accept unsigned webhooks")
    ap.add_argument("--max-skew", type=int, default=300,
                    help="max age of a signature timestamp in seconds (0: any)")
    ap.add_argument("--admin-token")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    key = args.hmac_key
    if args.hmac_key_file:
        with open(args.hmac_key_file) as f:
            key = f.read().strip()
    if key is None and not args.no_verify:
        ap.error("--hmac-key, --hmac-key-file or --no-verify is required")

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.provider = Provider(key.encode() if key else None, args.max_skew, args.admin_token)
    server.verbose = args.verbose
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    sys.stdout.write("PORT %d\n" % port)
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
