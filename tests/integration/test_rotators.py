#!/usr/bin/python3
"""End-to-end tests of rekey's `http` and `exec` rotators against a small API-key provider.

tests/integration/api_key_provider.py issues and revokes API keys and rejects revoked ones
(GET /whoami: 200 for an active key, 401 otherwise). The `http` rotator reaches it through the
signed webhook protocol (docs/rotators/http.md), the `exec` rotator through
tests/integration/exec_provider_client.py and the provider's admin API (docs/rotators/exec.md).

What is checked (issue 3):
- with a 2 s grace, a client using the old key keeps getting 200 until the run's revoke step and
  401 after it, never before the grace period ended; the new key works from the grace period on;
- every webhook call is signed (the provider verified each one), carries the documented headers,
  and each step document carries only the values that step needs;
- a step that fails is rolled back and the run retries with a NEW key; the provider revoked the
  failed ones; a run whose every attempt fails, or whose provider is down, ends `failed` with the
  current value untouched and still accepted;
- a dry run of a misconfigured config reports every problem and changes nothing;
- an incident rotation revokes the old key at once (also when it ends another run's grace);
- after each run: exactly one `current`, no `pending`, the provider's active key is the current
  one, a rotation event and a history entry;
- no API key value (nor the webhook signing key) appears in the server log or in any body the
  rotation API (or KV metadata) answered.

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_rotators.py -v
"""

import datetime
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker, http_request, quote_path  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
PROVIDER_PY = os.path.join(HERE, "api_key_provider.py")
EXEC_CLIENT_PY = os.path.join(HERE, "exec_provider_client.py")
HOOK_PATH = "ops/hook"  # the KV secret holding the webhook signing key
RUN_TIMEOUT_S = 20.0

SRV = None
PROV = None
HMAC_KEY = "whsec_" + secrets.token_hex(16)
SECRETS = SecretTracker()
BODIES = []          # (label, bytes) of every rotation API / KV metadata answer
ALL_PROVIDERS = []   # every provider started, so teardown can collect every key it issued


def setUpModule():
    global SRV, PROV
    SECRETS.track(HMAC_KEY)
    PROV = ProviderProcess(HMAC_KEY)
    try:
        PROV.start()
        SRV = RekeyServer(name="rotators").__enter__()
    except BaseException:
        PROV.stop()  # tearDownModule does not run when setUpModule fails
        raise
    r = SRV.request("POST", "/v1/secret/data/" + HOOK_PATH, {"data": {"hmac_key": HMAC_KEY}})
    assert r.status == 200, r


def tearDownModule():
    try:
        keys = set()
        for p in ALL_PROVIDERS:
            keys.update(p.issued)
            if p.alive():
                keys.update(k["api_key"] for k in p.keys())
        for k in sorted(keys):
            SECRETS.track(k)
        leaked = [(label, v) for label, body in BODIES for v in SECRETS.values
                  if v.encode() in body]
        print("secret-in-body check: %d values checked against %d rotation/metadata API bodies, "
              "%d found" % (len(SECRETS.values), len(BODIES), len(leaked)))
        if leaked:
            raise AssertionError("secret values in API bodies: %r" % [l for l, _ in leaked[:5]])
        SECRETS.check(SRV, label="test_rotators")
    finally:
        try:
            SRV.__exit__(None, None, None)
        finally:
            for p in ALL_PROVIDERS:
                p.stop()


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def parse_time(text):
    """RFC 3339 UTC ("...T12:00:00.123456789Z", fraction optional) -> Unix seconds (float)."""
    assert text and text.endswith("Z"), text
    base, _, frac = text[:-1].partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    return t + (float("0." + frac) if frac else 0.0)


# ---- the provider ----------------------------------------------------------------------------

class ProviderBase:
    """Calls to a provider on 127.0.0.1:port (application and admin API)."""

    port = None

    def __init__(self):
        self.issued = set()  # every api_key seen, kept after the provider is gone
        ALL_PROVIDERS.append(self)

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        return "http://" + self.addr

    def call(self, method, path, body=None, bearer=None, timeout=10.0):
        headers = {"Authorization": "Bearer " + bearer} if bearer is not None else None
        return http_request(self.addr, method, path, body=body, headers=headers, timeout=timeout)

    def admin(self, method, path, body=None):
        r = self.call(method, path, body)
        assert r.status == 200, "provider %s %s -> %r" % (method, path, r)
        return r.json

    def whoami(self, key):
        return self.call("GET", "/whoami", bearer=key).status

    def keys(self, secret=None):
        keys = self.admin("GET", "/admin/keys")["keys"]
        self.issued.update(k["api_key"] for k in keys)
        return [k for k in keys if secret is None or k["secret"] == secret]

    def requests(self, run_id=None):
        reqs = self.admin("GET", "/admin/requests")["requests"]
        return [r for r in reqs if run_id is None or (r["body"] or {}).get("run_id") == run_id]

    def mint(self, secret):
        doc = self.admin("POST", "/admin/keys", {"secret": secret})
        self.issued.add(doc["api_key"])
        return doc

    def fault(self, step, status=None, count=1, delay=0, message="injected fault"):
        self.admin("POST", "/admin/faults", {"step": step, "status": status, "count": count,
                                             "delay": delay, "message": message})

    def clear_faults(self):
        self.admin("DELETE", "/admin/faults")


class ProviderProcess(ProviderBase):
    """api_key_provider.py as its own process, started as its docstring says."""

    def __init__(self, hmac_key):
        super().__init__()
        self.hmac_key = hmac_key
        self.tmp = tempfile.mkdtemp(prefix="rekey-it-provider-")
        self.port_file = os.path.join(self.tmp, "port")
        self.proc = None

    def start(self):
        with open(os.path.join(self.tmp, "provider.stderr.log"), "ab") as log:
            self.proc = subprocess.Popen(
                [PYTHON, PROVIDER_PY, "--port", "0", "--port-file", self.port_file,
                 "--hmac-key", self.hmac_key],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("api_key_provider.py did not start (rc %r)"
                                     % self.proc.poll())
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        line = self.proc.stdout.readline().decode().strip()
        assert line == "PORT %d" % self.port, "provider printed %r" % line
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
        if not harness.keep_tmp():
            shutil.rmtree(self.tmp, ignore_errors=True)


class InProcessProvider(ProviderBase):
    """The provider's own classes served from a thread of this test, so that it can be stopped
    and started again on the same port with its keys kept (a process would lose them)."""

    def __init__(self, hmac_key):
        super().__init__()
        sys.dont_write_bytecode = True  # no __pycache__ in the source tree
        import api_key_provider as akp
        self.akp = akp
        self.state = akp.Provider(hmac_key.encode(), 300, None)
        self.server = None
        self.thread = None

    def start(self):
        akp = self.akp
        server = akp.ThreadingHTTPServer(("127.0.0.1", self.port or 0), akp.Handler)
        server.daemon_threads = True
        server.provider = self.state
        server.verbose = False
        self.port = server.server_address[1]
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.server = server
        return self

    def alive(self):
        return self.server is not None

    def stop(self):
        if self.server is None:
            return
        server, self.server = self.server, None
        server.shutdown()
        server.server_close()
        self.thread.join(5)


def closed_port():
    """A loopback port nothing listens on (bound and released; nothing else here takes it)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- rekey ------------------------------------------------------------------------------------

def api(method, path, body=None, expect=200):
    """A call to the rekey server whose answer is kept for the secret-in-body check."""
    r = SRV.request(method, path, body)
    BODIES.append(("%s %s -> %d" % (method, path, r.status), r.body))
    if expect is not None:
        assert r.status == expect, "%s %s -> %r" % (method, path, r)
    return r


def data(r):
    return r.json["data"]


def kv_put(path, value):
    r = SRV.request("POST", "/v1/secret/data/" + quote_path(path), {"data": value})
    assert r.status == 200, r
    return r.json["data"]["version"]


def kv_get(path):
    r = SRV.request("GET", "/v1/secret/data/" + quote_path(path))
    assert r.status == 200, r
    return r.json["data"]["data"]


def kv_meta(path):
    return data(api("GET", "/v1/secret/metadata/" + quote_path(path)))


def set_config(path, config):
    api("PUT", "/v1/rotation/config/" + quote_path(path), config, expect=204)


def rotate(path, **body):
    return data(api("POST", "/v1/rotation/rotate/" + quote_path(path), body))


def runs(path):
    return data(api("GET", "/v1/rotation/runs/" + quote_path(path)))["runs"]


def get_run(path, run_id):
    r = api("GET", "/v1/rotation/runs/%s?run_id=%s" % (quote_path(path), run_id))
    return data(r)["runs"][0]


def wait_run(path, run_id, until, what, timeout=RUN_TIMEOUT_S, poll=0.02):
    deadline = time.monotonic() + timeout
    run = None
    while time.monotonic() < deadline:
        run = get_run(path, run_id)
        if until(run):
            return run
        time.sleep(poll)
    raise AssertionError("run %s of %s not %s within %.0fs; last: phase %s outcome %s error %r "
                         "steps %r" % (run_id, path, what, timeout, run and run["phase"],
                                       run and run["outcome"], run and run["error"],
                                       run and run["steps"]))


def wait_done(path, run_id, timeout=RUN_TIMEOUT_S):
    return wait_run(path, run_id, lambda r: r["phase"] == "done", "done", timeout)


def events_after(seq):
    return data(api("GET", "/v1/rotation/events?after=%d&limit=10000" % seq))


def last_event_seq():
    return events_after(0)["last_seq"]


def status_of(path):
    doc = data(api("GET", "/v1/rotation/status?prefix=" + quote_path(path)))
    found = [s for s in doc["secrets"] if s["path"] == path]
    assert len(found) == 1, doc
    return found[0]


def steps_of(run):
    return [(s["attempt"], s["step"], s["result"]) for s in run["steps"]]


def http_params(prov, **extra):
    params = {"url": prov.url + "/webhook", "signing_secret": HOOK_PATH,
              "test_url": prov.url + "/whoami"}
    params.update(extra)
    return params


def exec_params(prov, **extra):
    params = {"command": [PYTHON, EXEC_CLIENT_PY], "env": {"PROVIDER_URL": prov.url}}
    params.update(extra)
    return params


class OldKeyClient:
    """An application that never re-reads its secret: calls GET /whoami with one key every
    `interval` seconds and records (sent, received, status) until stopped."""

    def __init__(self, prov, key, interval=0.02):
        self.prov, self.key, self.interval = prov, key, interval
        self.calls = []
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        deadline = time.monotonic() + RUN_TIMEOUT_S + 10
        while not self._stop.is_set() and time.monotonic() < deadline:
            sent = time.time()
            try:
                status = self.prov.whoami(self.key)
            except OSError as e:
                self.errors.append(repr(e))
                status = None
            self.calls.append((sent, time.time(), status))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(15)
        return False


# ---- tests ------------------------------------------------------------------------------------

class RotatorTest(unittest.TestCase):
    maxDiff = None

    def tearDown(self):
        if PROV.alive():
            PROV.clear_faults()

    # -- helpers --
    def seed(self, prov, path, extra=None):
        """Mints a key at the provider and stores it (and its id) as version 1 of `path`."""
        key = prov.mint(path)
        value = {"api_key": key["api_key"], "key_id": key["key_id"]}
        value.update(extra or {})
        version = kv_put(path, value)
        self.assertEqual(prov.whoami(key["api_key"]), 200)
        return key, version

    def assert_settled(self, prov, path, run, event_type, since_seq, current_value=None):
        """Exactly one current, no pending, the provider's only active key for `path` is the
        current one, a `event_type` event and a history entry for `run`."""
        meta = kv_meta(path)
        self.assertIn("current", meta["labels"], meta["labels"])
        self.assertNotIn("pending", meta["labels"], "a run left a pending version")
        self.assertEqual(meta["labels"]["current"], meta["current_version"])
        value = kv_get(path)
        if current_value is not None:
            self.assertEqual(value, current_value, "the current value changed")
        active = [k for k in prov.keys(path) if k["status"] == "active"]
        self.assertEqual([k["key_id"] for k in active], [value["key_id"]],
                         "the provider's active keys for %s are not exactly the current one" % path)
        self.assertEqual(active[0]["api_key"], value["api_key"])
        self.assertEqual(prov.whoami(value["api_key"]), 200)
        evs = [e for e in events_after(since_seq)["events"] if e.get("run_id") == run["id"]]
        self.assertIn(event_type, [e["type"] for e in evs], evs)
        self.assertEqual(evs[-1]["type"], event_type, "the run's last event")
        self.assertEqual(evs[0]["type"], "rotation.started")
        history = runs(path)
        self.assertIn(run["id"], [r["id"] for r in history])
        st = status_of(path)
        self.assertFalse(st["in_progress"], st)
        self.assertEqual(st["last_outcome"], run["outcome"])
        return meta, value

    def assert_webhook_calls(self, reqs, run_id, expected):
        """Every webhook call of `run_id` is verified, well formed and carries only the values
        its step needs; `expected` is the list of (attempt, step) in order, one per step
        (redeliveries of a step are folded)."""
        folded = []
        for r in reqs:
            self.assertTrue(r["verified"], "webhook call not verified: %s" % r["step"])
            body, headers = r["body"], r["headers"]
            step = r["step"]
            key = "%s:%s:%d" % (run_id, step, body["attempt"])
            self.assertEqual(headers.get("x-rekey-step"), step)
            self.assertEqual(headers.get("x-rekey-run-id"), run_id)
            self.assertEqual(headers.get("idempotency-key"), key)
            self.assertEqual(body["idempotency_key"], key)
            self.assertEqual(headers.get("content-type"), "application/json")
            self.assertRegex(headers.get("x-rekey-signature", ""), r"^t=\d+,v1=[0-9a-f]{64}$")
            self.assertEqual((body["protocol"], body["dry_run"], body["field"]),
                             (1, step == "check", "api_key"))
            with_value = {"check": {"current"}, "create": {"current"},
                          "set": {"pending", "current"}, "rollback": {"pending", "current"},
                          "test": {"pending"}, "revoke": {"previous"}, "finish": set()}[step]
            for which in ("current", "pending", "previous"):
                v = body[which]
                if v is not None and which not in with_value:
                    self.assertNotIn("value", v, "%s carries the %s value" % (step, which))
                if which in with_value and v is not None:
                    self.assertIn("api_key", v["value"], "%s lacks the %s value" % (step, which))
            delivery = int(headers.get("x-rekey-delivery", "0"))
            if folded and folded[-1][:2] == (body["attempt"], step):
                self.assertEqual(delivery, folded[-1][2] + 1, "redeliveries are numbered")
                folded[-1] = (body["attempt"], step, delivery)
            else:
                self.assertEqual(delivery, 1)
                folded.append((body["attempt"], step, delivery))
        self.assertEqual([f[:2] for f in folded], expected)
        return folded

    def grace_rotation(self, rotator, params):
        """The issue's bar: rotate with a 2 s grace while an application keeps using the old
        key; it works until revoke and fails after; the new key works from the grace on."""
        prov = PROV
        path = uniq("app/%s-key" % rotator)
        old, version = self.seed(prov, path, extra={"account": "acme"})
        set_config(path, {"rotator": rotator, "params": params, "grace": "2s"})
        seq = last_event_seq()
        prov.admin("DELETE", "/admin/requests")
        with OldKeyClient(prov, old["api_key"]) as client:
            started = rotate(path)
            self.assertEqual((started["phase"], started["attempt"], started["trigger"]),
                             ("create", 1, "manual"))
            self.assertEqual(started["grace_seconds"], 2)
            run_id = started["id"]
            run = wait_run(path, run_id, lambda r: r["phase"] in ("grace", "done"), "in grace")
            self.assertEqual(run["phase"], "grace", "the run skipped its grace period: %r" % run)
            # Right after finish: readers get the new key and both keys work at the provider.
            new = kv_get(path)
            checked = time.time()
            self.assertEqual(prov.whoami(old["api_key"]), 200, "old key refused during grace")
            self.assertEqual(prov.whoami(new["api_key"]), 200, "new key refused during grace")
            self.assertLess(checked, parse_time(run["revoke_at"]),
                            "checked both keys too late: the grace period was over")
            self.assertNotEqual(new["api_key"], old["api_key"])
            self.assertEqual(new["account"], "acme", "merge keeps members the provider lacks")
            run = wait_done(path, run_id)
            time.sleep(0.2)  # a few more calls with the old key after revoke
        self.assertEqual(client.errors, [])
        self.assertEqual(run["outcome"], "succeeded", run)
        self.assertEqual(run["error"], "")
        self.assertEqual(steps_of(run), [(1, s, "ok") for s in
                                         ("create", "set", "test", "finish", "revoke")])
        self.assertEqual(run["old_version"], version)

        # The timeline: 200 until the revoke step, 401 after it, never before the grace ended.
        revoke = [s for s in run["steps"] if s["step"] == "revoke"][0]
        finish = [s for s in run["steps"] if s["step"] == "finish"][0]
        revoke_started, revoke_ended = parse_time(revoke["started"]), parse_time(revoke["ended"])
        grace_end = parse_time(run["revoke_at"])
        self.assertGreaterEqual(grace_end - parse_time(finish["ended"]), 1.99)
        statuses = [c[2] for c in client.calls]
        self.assertIn(401, statuses, "the old key was never refused")
        first_401 = statuses.index(401)
        self.assertEqual(set(statuses[:first_401]), {200}, "the old key failed before revoke")
        self.assertEqual(set(statuses[first_401:]), {401}, "the old key worked again")
        # The provider refused it at some moment between sending and receiving that call.
        refused_by = client.calls[first_401][1]
        last_ok_sent = client.calls[first_401 - 1][0]
        self.assertGreaterEqual(refused_by, revoke_started,
                                "old key refused before the revoke step started")
        self.assertGreaterEqual(refused_by, grace_end, "old key refused before the grace ended")
        self.assertLessEqual(last_ok_sent, revoke_ended, "old key still worked after revoke")
        self.assertGreater(first_401, 10, "too few calls with the old key to mean anything")
        print("%s: %d calls with the old key, %d x 200 then %d x 401; grace ended %.3fs after "
              "finish, revoke step started %.3fs after that, first 401 %.3fs after revoke "
              "started" % (rotator, len(statuses), first_401, len(statuses) - first_401,
                           grace_end - parse_time(finish["ended"]), revoke_started - grace_end,
                           refused_by - revoke_started))
        self.assertEqual(prov.whoami(old["api_key"]), 401)
        self.assertEqual(prov.whoami(new["api_key"]), 200)

        meta, value = self.assert_settled(prov, path, run, "rotation.completed", seq)
        self.assertEqual(meta["labels"].get("previous"), version)
        self.assertEqual(meta["current_version"], run["pending_version"])
        keys = {k["key_id"]: k for k in prov.keys(path)}
        self.assertEqual(keys[old["key_id"]]["status"], "revoked")
        self.assertEqual(keys[value["key_id"]]["created_by"], "%s:create:1" % run_id)
        types = [e["type"] for e in events_after(seq)["events"] if e.get("run_id") == run_id]
        self.assertEqual(types, ["rotation.started", "rotation.promoted", "rotation.revoked",
                                 "rotation.completed"])
        return prov, path, run

    def test_http_grace_old_key_works_until_revoke(self):
        prov, path, run = self.grace_rotation("http", http_params(PROV))
        self.assert_webhook_calls(prov.requests(run["id"]), run["id"],
                                  [(1, s) for s in ("create", "set", "test", "finish", "revoke")])
        log = SRV.read_logs().decode("utf-8", "replace")
        self.assertIn("http create: %s answered 200" % PROV.url, log)

    def test_exec_grace_old_key_works_until_revoke(self):
        prov, path, run = self.grace_rotation("exec", exec_params(PROV))
        self.assertEqual(prov.requests(run["id"]), [], "exec went through the webhook")
        log = SRV.read_logs().decode("utf-8", "replace")
        self.assertIn("exec revoke: command %s exited with status 0" % PYTHON, log)
        self.assertIn("bytes to stderr (not logged", log)
        self.assertNotIn("exec_provider_client: ", log, "stderr logged without log_stderr")

    def test_http_failed_test_retries_with_new_key(self):
        """The provider answers 500 to every delivery of attempt 1's test: that attempt is rolled
        back (its key revoked at the provider, its version destroyed) and attempt 2 succeeds with
        another key."""
        prov = PROV
        path = uniq("app/http-retry")
        old, version = self.seed(prov, path)
        set_config(path, {"rotator": "http", "params": http_params(prov), "grace": "0s",
                          "retry": {"max_attempts": 3, "backoff": "1s"}})
        seq = last_event_seq()
        prov.fault("test", status=500, count=3)  # 3 = 1 + the default 2 redeliveries
        run = wait_done(path, rotate(path)["id"])
        self.assertEqual((run["outcome"], run["attempt"]), ("succeeded", 2), run)
        self.assertEqual(steps_of(run), [
            (1, "create", "ok"), (1, "set", "ok"), (1, "test", "error"), (1, "rollback", "ok"),
            (2, "create", "ok"), (2, "set", "ok"), (2, "test", "ok"), (2, "finish", "ok"),
            (2, "revoke", "ok")])
        failed = [s for s in run["steps"] if s["result"] == "error"][0]
        self.assertIn("answered 500", failed["error"])
        folded = self.assert_webhook_calls(
            prov.requests(run["id"]), run["id"],
            [(1, "create"), (1, "set"), (1, "test"), (1, "rollback"), (2, "create"), (2, "set"),
             (2, "test"), (2, "finish"), (2, "revoke")])
        self.assertEqual(folded[2], (1, "test", 3), "attempt 1's test was delivered 3 times")

        meta, value = self.assert_settled(prov, path, run, "rotation.completed", seq)
        keys = {k["created_by"]: k for k in prov.keys(path)}
        first, second = keys["%s:create:1" % run["id"]], keys["%s:create:2" % run["id"]]
        self.assertNotEqual(first["api_key"], second["api_key"], "the retry reused the key")
        self.assertEqual(first["status"], "revoked", "the failed attempt's key was not revoked")
        self.assertEqual(prov.whoami(first["api_key"]), 401)
        self.assertEqual(second["api_key"], value["api_key"])
        self.assertEqual(keys["admin"]["status"], "revoked")  # the seeded key, grace 0
        self.assertEqual(prov.whoami(old["api_key"]), 401)
        # Version 2 (attempt 1) was destroyed, version 3 is current.
        self.assertEqual(meta["current_version"], version + 2)
        self.assertTrue(meta["versions"][str(version + 1)]["destroyed"], meta["versions"])
        types = [e["type"] for e in events_after(seq)["events"] if e.get("run_id") == run["id"]]
        self.assertEqual(types, ["rotation.started", "rotation.step_failed",
                                 "rotation.retry_scheduled", "rotation.promoted",
                                 "rotation.revoked", "rotation.completed"])
        retry_at = parse_time(
            [s for s in run["steps"] if s["step"] == "create" and s["attempt"] == 2][0]["started"])
        rolled_back = parse_time(
            [s for s in run["steps"] if s["step"] == "rollback"][0]["ended"])
        self.assertGreaterEqual(retry_at - rolled_back, 0.99, "retry before its 1s backoff")

    def test_http_every_attempt_fails_current_untouched(self):
        prov = PROV
        path = uniq("app/http-fail")
        old, version = self.seed(prov, path)
        before = kv_get(path)
        set_config(path, {"rotator": "http", "params": http_params(prov, retries=0),
                          "grace": "2s", "retry": {"max_attempts": 3, "backoff": "1s"}})
        seq = last_event_seq()
        prov.fault("test", status=422, count=1000, message="the pending key does not work")
        with OldKeyClient(prov, old["api_key"], interval=0.05) as client:
            run = wait_done(path, rotate(path)["id"])
        self.assertEqual({c[2] for c in client.calls}, {200}, "the current key stopped working")
        self.assertEqual((run["outcome"], run["attempt"]), ("failed", 3), run)
        self.assertEqual(steps_of(run), [
            (a, s, "error" if s == "test" else "ok") for a in (1, 2, 3)
            for s in ("create", "set", "test", "rollback")])
        self.assertIn("422", run["error"])
        self.assertIn("the pending key does not work", run["error"])
        self.assert_webhook_calls(prov.requests(run["id"]), run["id"],
                                  [(a, s) for a in (1, 2, 3)
                                   for s in ("create", "set", "test", "rollback")])
        meta, _ = self.assert_settled(prov, path, run, "rotation.failed", seq, current_value=before)
        self.assertEqual(meta["current_version"], version)
        self.assertNotIn("previous", meta["labels"])
        for n in (version + 1, version + 2, version + 3):
            self.assertTrue(meta["versions"][str(n)]["destroyed"], "version %d kept" % n)
        minted = [k for k in prov.keys(path) if k["created_by"].startswith(run["id"])]
        self.assertEqual(len({k["api_key"] for k in minted}), 3, "each attempt needs a new key")
        self.assertEqual({k["status"] for k in minted}, {"revoked"})
        st = status_of(path)
        self.assertEqual((st["failing"], st["consecutive_failures"]), (True, 1), st)
        self.assertIn("422", st["last_error"])

    def test_provider_down_fails_current_untouched(self):
        """Both rotators, with the provider stopped: the run fails, nothing is minted, the
        current value is untouched and still accepted when the provider is back."""
        prov = InProcessProvider(HMAC_KEY).start()
        cases = {}
        for rotator, params in (("http", http_params(prov, retries=1, timeout="1s")),
                                ("exec", exec_params(prov, timeout="5s"))):
            path = uniq("app/%s-down" % rotator)
            old, version = self.seed(prov, path)
            set_config(path, {"rotator": rotator, "params": params, "grace": "2s",
                              "retry": {"max_attempts": 2, "backoff": "1s"}})
            cases[rotator] = (path, old, version, kv_get(path))
        keys_before = prov.keys()
        seq = last_event_seq()
        prov.stop()
        try:
            started = {rotator: rotate(c[0])["id"] for rotator, c in cases.items()}
            done = {rotator: wait_done(cases[rotator][0], run_id)
                    for rotator, run_id in started.items()}
        finally:
            prov.start()  # same port, same keys
        self.assertEqual(prov.keys(), keys_before, "the provider minted or revoked something")
        for rotator, run in done.items():
            path, old, version, before = cases[rotator]
            with self.subTest(rotator=rotator):
                self.assertEqual((run["outcome"], run["attempt"]), ("failed", 2), run)
                self.assertEqual([s[:2] for s in steps_of(run)],
                                 [(1, "create"), (1, "rollback"), (2, "create"), (2, "rollback")])
                self.assertEqual(steps_of(run)[0][2], "error")
                self.assertIn("UNAVAILABLE", run["error"])
                meta, _ = self.assert_settled(prov, path, run, "rotation.failed", seq,
                                              current_value=before)
                self.assertEqual((meta["current_version"], len(meta["versions"])), (version, 1),
                                 "a version was created although the provider was down")
                self.assertEqual(prov.whoami(old["api_key"]), 200)
        prov.stop()

    def test_http_dry_run_reports_every_problem_and_changes_nothing(self):
        prov = PROV
        path = uniq("app/http-dry")
        old, version = self.seed(prov, path)
        # A correct config first: the provider is asked (signed "check"), nothing changes.
        set_config(path, {"rotator": "http", "params": http_params(prov), "grace": "2s"})
        snapshot = self.snapshot(prov, path)
        prov.admin("DELETE", "/admin/requests")
        report = rotate(path, dry_run=True)
        self.assertEqual((report["dry_run"], report["ok"], report["problems"]), (True, True, []),
                         report)
        self.assertTrue(any("revoke version %d" % version in p for p in report["plan"]), report)
        checks = prov.requests()
        self.assertEqual([(r["step"], r["verified"]) for r in checks], [("check", True)])
        self.assertEqual(checks[0]["body"]["dry_run"], True)
        self.assertEqual(checks[0]["body"]["current"]["value"]["api_key"], old["api_key"])
        self.assertEqual(self.snapshot(prov, path), snapshot)

        # Misconfigured: the signing secret does not exist, or the URLs are unreachable.
        dead = "http://127.0.0.1:%d" % closed_port()
        bad_secret = http_params(prov, signing_secret="ops/no-such-hook")
        bad_url = http_params(prov, url=dead + "/webhook", test_url=dead + "/whoami", retries=0)
        for params, needle in ((bad_secret, "ops/no-such-hook"), (bad_url, "onnect")):
            set_config(path, {"rotator": "http", "params": params, "grace": "2s"})
            snapshot = self.snapshot(prov, path)
            report = rotate(path, dry_run=True)
            self.assertFalse(report["ok"], report)
            text = " ".join("%s: %s" % (p["field"], p["message"]) for p in report["problems"])
            self.assertIn(needle, text, report)
            self.assertEqual(self.snapshot(prov, path), snapshot, "a dry run changed something")
        self.assertEqual(prov.requests(), checks, "a failed dry run called the provider")

    # BUG (reported to the lead, not fixed here): a dry run stops at the first problem the
    # rotator meets. HttpRotator::Check (src/rotators/http/http_rotator.cc) returns as soon as
    # the signing secret cannot be read, so the unreachable url/test_url are never tried, and
    # RotationEngine::DryRun (src/rotation/engine.cc) records that one "target" problem. Remove
    # this marker when the dry run reports every problem (an unexpected success fails the suite).
    def test_http_dry_run_reports_all_problems_at_once(self):
        prov = PROV
        path = uniq("app/http-dry-all")
        self.seed(prov, path)
        dead = "http://127.0.0.1:%d" % closed_port()
        both = http_params(prov, signing_secret="ops/no-such-hook", url=dead + "/webhook",
                           test_url=dead + "/whoami", retries=0)
        set_config(path, {"rotator": "http", "params": both, "grace": "2s"})
        snapshot = self.snapshot(prov, path)
        report = rotate(path, dry_run=True)
        self.assertEqual(self.snapshot(prov, path), snapshot, "a dry run changed something")
        text = " ".join("%s: %s" % (p["field"], p["message"]) for p in report["problems"])
        self.assertFalse(report["ok"], report)
        self.assertIn("ops/no-such-hook", text, report)
        self.assertIn("onnect", text, "dry run did not report the unreachable URL: %r" % report)

    def test_exec_dry_run_runs_check_and_changes_nothing(self):
        prov = PROV
        path = uniq("app/exec-dry")
        self.seed(prov, path)
        set_config(path, {"rotator": "exec", "params": exec_params(prov), "grace": "2s"})
        snapshot = self.snapshot(prov, path)
        report = rotate(path, dry_run=True)
        self.assertEqual((report["ok"], report["problems"]), (True, []), report)
        self.assertEqual(self.snapshot(prov, path), snapshot, "a dry run changed something")
        self.assertIn("exec check: command %s says: provider reachable" % PYTHON,
                      SRV.read_logs().decode("utf-8", "replace"))
        # The provider down: the check fails and says so; still nothing changes.
        down = exec_params(prov)
        down["env"] = {"PROVIDER_URL": "http://127.0.0.1:%d" % closed_port()}
        set_config(path, {"rotator": "exec", "params": down, "grace": "2s"})
        snapshot = self.snapshot(prov, path)
        report = rotate(path, dry_run=True)
        self.assertFalse(report["ok"], report)
        self.assertEqual([p["field"] for p in report["problems"]], ["target"], report)
        self.assertIn("exited with status 1: provider unreachable", report["problems"][0]["message"])
        self.assertEqual(self.snapshot(prov, path), snapshot, "a dry run changed something")

    def test_bad_params_are_all_reported_when_the_config_is_set(self):
        path = uniq("app/bad-config")
        r = api("PUT", "/v1/rotation/config/" + path,
                {"rotator": "http", "grace": "2s",
                 "params": {"url": "ftp://example.com/hook", "signing_secret": "../x",
                            "headers": {"Authorization": "Bearer t"}, "retries": 11,
                            "bogus": 1}}, expect=400)
        errors = " | ".join(r.json["errors"])
        for needle in ("params.url", "params.signing_secret", "params.headers.Authorization",
                       "params.retries", "params.bogus"):
            self.assertIn(needle, errors)
        r = api("PUT", "/v1/rotation/config/" + path,
                {"rotator": "exec", "params": {"command": ["python3", "x.py"],
                                               "env": {"REKEY_STEP": "x", "LD_PRELOAD": "y"}}},
                expect=400)
        errors = " | ".join(r.json["errors"])
        for needle in ("params.command[0]", "params.env.REKEY_STEP", "params.env.LD_PRELOAD"):
            self.assertIn(needle, errors)
        r = api("GET", "/v1/rotation/config/" + path, expect=404)

    def test_http_wrong_signing_key_is_refused_and_nothing_changes(self):
        """The provider refuses a webhook signed with another key (401): the run fails without a
        new key anywhere."""
        prov = PROV
        path = uniq("app/http-badsig")
        hook = uniq("ops/other-hook")
        kv_put(hook, {"hmac_key": SECRETS.track("whsec_" + secrets.token_hex(16))})
        old, version = self.seed(prov, path)
        before = kv_get(path)
        set_config(path, {"rotator": "http", "params": http_params(prov, signing_secret=hook),
                          "grace": "2s", "retry": {"max_attempts": 1}})
        seq = last_event_seq()
        keys_before = prov.keys()
        run = wait_done(path, rotate(path)["id"])
        self.assertEqual(run["outcome"], "failed", run)
        self.assertIn("PERMISSION_DENIED", run["error"])
        self.assertIn("answered 401: bad signature", run["error"])
        reqs = prov.requests(run["id"])
        self.assertEqual([(r["step"], r["verified"]) for r in reqs],
                         [("create", False), ("rollback", False)])
        self.assertEqual(prov.keys(), keys_before)
        meta, _ = self.assert_settled(prov, path, run, "rotation.failed", seq,
                                      current_value=before)
        self.assertEqual(meta["current_version"], version)

    def test_value_from_rekey_installed_by_set(self):
        """value_source "rekey": rekey generates the key with the config's generator, the
        provider (webhook) or the command (admin API) installs it in `set`."""
        prov = PROV
        for rotator, params in (("http", http_params(prov, value_source="rekey")),
                                ("exec", exec_params(prov, value_source="rekey"))):
            with self.subTest(rotator=rotator):
                path = uniq("app/%s-gen" % rotator)
                old, version = self.seed(prov, path)
                set_config(path, {"rotator": rotator, "params": params, "grace": "0s",
                                  "generator": {"type": "api_key", "prefix": "gen_",
                                                "length": 40}})
                seq = last_event_seq()
                run = wait_done(path, rotate(path)["id"])
                self.assertEqual(run["outcome"], "succeeded", run)
                value = kv_get(path)
                SECRETS.track(value["api_key"])
                self.assertRegex(value["api_key"], r"^gen_[A-Za-z0-9]{40}$")
                self.assertEqual(prov.whoami(value["api_key"]), 200)
                self.assertEqual(prov.whoami(old["api_key"]), 401)
                installed = [k for k in prov.keys(path) if k["api_key"] == value["api_key"]]
                self.assertEqual(len(installed), 1)
                self.assertEqual(installed[0]["created_by"], "%s:set:1" % run["id"])
                if rotator == "http":
                    self.assert_webhook_calls(prov.requests(run["id"]), run["id"],
                                              [(1, s) for s in ("set", "test", "finish",
                                                                "revoke")])
                # key_id still names the old key (the provider keeps the id in the run's
                # state, not in the value), so compare by api_key.
                meta = kv_meta(path)
                self.assertNotIn("pending", meta["labels"])
                self.assertEqual(meta["labels"]["previous"], version)
                evs = [e["type"] for e in events_after(seq)["events"]
                       if e.get("run_id") == run["id"]]
                self.assertEqual(evs[-1], "rotation.completed")

    # BUG (reported to the lead, not fixed here): with value_source "rekey" the new value keeps
    # the current value's other members (merge), so its "key_id" still names the key it
    # replaced. The provider's revoke (api_key_provider.py, Provider.step "revoke" -> find(),
    # which looks a key up by key_id before api_key) and exec_provider_client.py's revoke()
    # (key_id first) then revoke that stale id again, and the generated key the second
    # rotation retires stays valid although the run succeeded. Remove this marker once the
    # test provider and client identify the key by the value's `field` (an unexpected success
    # fails the suite).
    def test_value_from_rekey_second_rotation_revokes_the_first_generated_key(self):
        prov = PROV
        for rotator, params in (("http", http_params(prov, value_source="rekey")),
                                ("exec", exec_params(prov, value_source="rekey"))):
            with self.subTest(rotator=rotator):
                path = uniq("app/%s-gen2" % rotator)
                self.seed(prov, path)
                set_config(path, {"rotator": rotator, "params": params, "grace": "0s"})
                first = wait_done(path, rotate(path)["id"])
                generated = kv_get(path)["api_key"]
                second = wait_done(path, rotate(path)["id"])
                self.assertEqual((first["outcome"], second["outcome"]),
                                 ("succeeded", "succeeded"))
                self.assertNotEqual(kv_get(path)["api_key"], generated)
                self.assertEqual(prov.whoami(generated), 401,
                                 "%s: the key the second rotation retired still works" % rotator)

    def snapshot(self, prov, path):
        """What a dry run must not change: KV metadata (times included), the provider's keys,
        the run history, the rotation status and the event stream."""
        hist = SRV.request("GET", "/v1/rotation/runs/" + quote_path(path))
        return {"meta": kv_meta(path), "value": kv_get(path), "keys": prov.keys(path),
                "runs": (hist.status, hist.json.get("data") if hist.json else None),
                "status": status_of(path), "last_seq": last_event_seq()}

    def test_http_incident_revokes_old_key_at_once(self):
        prov = PROV
        path = uniq("app/http-incident")
        old, version = self.seed(prov, path)
        set_config(path, {"rotator": "http", "params": http_params(prov), "grace": "1h"})
        seq = last_event_seq()
        started = rotate(path, incident=True)
        self.assertEqual((started["trigger"], started["incident"], started["grace_seconds"]),
                         ("incident", True, 0))
        run = wait_done(path, started["id"])
        self.assertEqual(run["outcome"], "succeeded", run)
        self.assertEqual(prov.whoami(old["api_key"]), 401, "incident: old key still works")
        self.assertEqual(steps_of(run), [(1, s, "ok") for s in
                                         ("create", "set", "test", "finish", "revoke")])
        finish = [s for s in run["steps"] if s["step"] == "finish"][0]
        revoke = [s for s in run["steps"] if s["step"] == "revoke"][0]
        self.assertLess(parse_time(revoke["started"]) - parse_time(finish["ended"]), 1.0,
                        "incident: revoke waited")
        _, v2 = self.assert_settled(prov, path, run, "rotation.completed", seq)

        # An incident while another run is in its (1 h) grace period ends that grace at once,
        # revoking the key it protected, then rotates again and revokes at once too.
        seq = last_event_seq()
        normal = rotate(path)
        wait_run(path, normal["id"], lambda r: r["phase"] in ("grace", "done"), "in grace")
        v3 = kv_get(path)
        self.assertEqual((prov.whoami(v2["api_key"]), prov.whoami(v3["api_key"])), (200, 200))
        answered = rotate(path, incident=True)
        self.assertEqual(answered["id"], normal["id"], "answers with the run whose grace ended")
        normal = wait_done(path, normal["id"], timeout=10)
        self.assertEqual(normal["outcome"], "succeeded", normal)
        self.assertEqual(prov.whoami(v2["api_key"]), 401, "grace not ended by the incident")
        incident = None
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline:
            latest = runs(path)[0]
            if latest["id"] != normal["id"] and latest["phase"] == "done":
                incident = latest
                break
            time.sleep(0.05)
        self.assertIsNotNone(incident, "the queued incident rotation did not run")
        self.assertEqual((incident["trigger"], incident["outcome"]), ("incident", "succeeded"))
        self.assertEqual(prov.whoami(v3["api_key"]), 401, "incident: old key still works")
        types = [e["type"] for e in events_after(seq)["events"] if e.get("run_id") == normal["id"]]
        self.assertIn("rotation.grace_ended", types)
        self.assert_settled(prov, path, incident, "rotation.completed", seq)


if __name__ == "__main__":
    harness.main()
