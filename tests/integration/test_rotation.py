#!/usr/bin/python3
"""Rotation through the real server and the `rekey` CLI: `rotation config set|get|rm`,
`rotate PATH [--dry-run|--incident|--wait]`, `rotate --prefix`, `rotate --due`,
`rotation status|history|events [--follow]`, the event long poll, and a kill -9 crash test.

Crash test: for each phase (create, set, test, finish, revoke) x (before, after its side
effect) the server is started with REKEY_TEST_CRASH_AT=<phase>:<when> (the engine SIGKILLs the
server when a run reaches that point), a rotation is triggered, the process dies, and the server
is restarted on the same data dir without the variable.  The run must resume or roll back:
at rest exactly one `current`, no `pending`, the value readable, version 1 untouched; in the end
the run succeeded (or failed with `current` untouched).  CRASH_REPEAT times per point
(env REKEY_CRASH_REPEAT, default 20); the ten points run as parallel lanes (REKEY_CRASH_LANES,
default 5 at a time), each with its own server and data dir.

Every value written or produced by a rotation is tracked: none may appear in the server's
output, nor in anything a rotation command prints.

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_rotation.py -v
"""

import concurrent.futures
import datetime
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker, quote_path, rekey_bin  # noqa: E402

BIN = None
SRV = None
SECRETS = SecretTracker()
CLI_OUTPUTS = []          # (args, stdout + stderr) of every rotation command run
CLI_LOCK = threading.Lock()
CLI_TIMEOUT_S = 60

CRASH_REPEAT = int(os.environ.get("REKEY_CRASH_REPEAT", "20"))
CRASH_LANES = int(os.environ.get("REKEY_CRASH_LANES", "5"))
CRASH_PHASES = ("create", "set", "test", "finish", "revoke")
CRASH_WHEN = ("before", "after")
ACTIVE_PHASES = ("create", "set", "test", "finish", "rollback", "retry_wait")


def setUpModule():
    global BIN, SRV
    BIN = rekey_bin()
    SRV = RekeyServer(name="rotation").__enter__()


def tearDownModule():
    try:
        SECRETS.check(SRV, label="test_rotation")
        check_cli_outputs()
    finally:
        SRV.__exit__(None, None, None)


def check_cli_outputs():
    """No tracked value may appear in anything a rotation command printed."""
    with CLI_LOCK:
        outputs = list(CLI_OUTPUTS)
    leaked = [(args, v) for args, text in outputs for v in SECRETS.values if v in text]
    print("secret-in-CLI-output check: %d values against %d rotation command outputs, %d found"
          % (len(SECRETS.values), len(outputs), len(leaked)))
    if leaked:
        raise AssertionError("rotation commands printed secret values, e.g. %r" % (leaked[:3],))


def clean_env(srv, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REKEY_", "VAULT_"))}
    env.update(REKEY_ADDR=srv.url, REKEY_TOKEN=srv.token)
    env.update(extra)
    return env


def run(args, srv=None, stdin_text=None, timeout=CLI_TIMEOUT_S):
    srv = srv or SRV
    p = subprocess.run([BIN] + list(args), env=clean_env(srv), capture_output=True, text=True,
                       input=stdin_text, stdin=None if stdin_text is not None else subprocess.DEVNULL,
                       timeout=timeout)
    with CLI_LOCK:
        CLI_OUTPUTS.append((args, p.stdout + p.stderr))
    return p


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


# ---- server-side helpers (raw HTTP, so values never pass through the CLI) -------------------

def api(srv, method, path, body=None, want=200, timeout=10.0):
    r = srv.request(method, path, body=body, timeout=timeout)
    if want is not None and r.status != want:
        raise AssertionError("%s %s: want %d, got %r" % (method, path, want, r))
    return r


def put_secret(srv, path, data):
    for v in data.values():
        if isinstance(v, str) and len(v) >= 16 and v.startswith("sv-"):
            SECRETS.track(v)
    return api(srv, "POST", "/v1/secret/data/" + quote_path(path), {"data": data}).json["data"]


def read_secret(srv, path, version=0):
    q = "?version=%d" % version if version else ""
    return api(srv, "GET", "/v1/secret/data/%s%s" % (quote_path(path), q)).json["data"]["data"]


def metadata(srv, path):
    return api(srv, "GET", "/v1/secret/metadata/" + quote_path(path)).json["data"]


def runs_of(srv, path, want=200):
    r = api(srv, "GET", "/v1/rotation/runs/" + quote_path(path), want=None)
    if r.status == 404:
        return []
    if r.status != want:
        raise AssertionError("runs of %s: %r" % (path, r))
    return r.json["data"]["runs"]


def get_run(srv, path, run_id):
    r = api(srv, "GET", "/v1/rotation/runs/%s?run_id=%s" % (quote_path(path), run_id))
    return r.json["data"]["runs"][0]


def set_config(srv, path, config):
    r = api(srv, "PUT", "/v1/rotation/config/" + quote_path(path), config, want=None)
    if r.status != 204:
        raise AssertionError("config of %s: %r" % (path, r))


def wait_run(srv, path, run_id, until="rest", timeout=20.0):
    """Polls a run until it is at rest (grace, revoke or ended) or, with until="end", ended."""
    deadline = time.monotonic() + timeout
    while True:
        run_doc = get_run(srv, path, run_id)
        if run_doc["outcome"] is not None:
            return run_doc
        if until == "rest" and run_doc["phase"] not in ACTIVE_PHASES:
            return run_doc
        if time.monotonic() > deadline:
            raise AssertionError("run %s of %s still %s after %.0fs"
                                 % (run_id, path, run_doc["phase"], timeout))
        time.sleep(0.05)


def last_event_seq(srv):
    after = 0
    while True:
        d = api(srv, "GET", "/v1/rotation/events?after=%d&limit=1000" % after).json["data"]
        if not d["events"]:
            return after
        after = d["last_seq"]


def parse_time(text):
    """RFC 3339 UTC with up to 9 fractional digits -> Unix seconds (float)."""
    base, _, frac = text.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return t.timestamp() + (float("0." + frac) if frac else 0.0)


def track_current(srv, path, field="value"):
    v = read_secret(srv, path).get(field)
    if isinstance(v, str) and len(v) >= 16:
        SECRETS.track(v)
    return v


class Base(unittest.TestCase):

    def rk(self, *args, rc=0, srv=None, stdin_text=None):
        p = run(args, srv=srv, stdin_text=stdin_text)
        self.assertEqual(p.returncode, rc, "rekey %s: exit %d (want %d)\nstdout: %s\nstderr: %s"
                         % (" ".join(args), p.returncode, rc, p.stdout[-2000:], p.stderr[-2000:]))
        return p

    def rk_json(self, *args, rc=0, srv=None):
        p = self.rk(*args, "--format", "json", rc=rc, srv=srv)
        try:
            return json.loads(p.stdout)
        except ValueError:
            self.fail("rekey %s: stdout is not JSON: %r" % (" ".join(args), p.stdout[:500]))

    def generic_secret(self, prefix, grace="1s", fields=("value",), srv=None, extra=()):
        srv = srv or SRV
        path = uniq(prefix)
        data = {f: SECRETS.new() for f in fields}
        data["user"] = "app"
        put_secret(srv, path, data)
        self.rk("rotation", "config", "set", path, "--rotator", "generic", "--grace", grace,
                "--params-json", json.dumps({"fields": list(fields)}), *extra, srv=srv)
        return path, data


# ---- config -------------------------------------------------------------------------------

class ConfigCommands(Base):

    def test_set_get_rm_with_flags(self):
        path = uniq("rot/cfg")
        p = self.rk("rotation", "config", "set", path, "--rotator", "generic",
                    "--schedule", "rate(30d)", "--window", "2h", "--grace", "10m",
                    "--param", 'fields=["api_key","token"]', "--generator-type", "api_key",
                    "--length", "40", "--prefix", "sk_live_", "--max-attempts", "5",
                    "--backoff", "1m", "--notify", "http://127.0.0.1:9/hook")
        self.assertIn("Success", p.stdout)
        doc = self.rk_json("rotation", "config", "get", path)["data"]
        self.assertEqual(doc["rotator"], "generic")
        self.assertEqual(doc["params"], {"fields": ["api_key", "token"]})
        self.assertEqual(doc["schedule"], "rate(30d)")
        self.assertEqual(doc["generator"]["type"], "api_key")
        self.assertEqual(doc["generator"]["length"], 40)
        self.assertEqual(doc["generator"]["prefix"], "sk_live_")
        self.assertEqual(doc["retry"]["max_attempts"], 5)
        self.assertEqual(doc["notify"], ["http://127.0.0.1:9/hook"])
        self.assertIn("grace", doc)
        self.assertIn("window", doc)
        table = self.rk("rotation", "config", "get", path).stdout
        for word in ("rotator", "generic", "rate(30d)", "sk_live_"):
            self.assertIn(word, table)
        self.rk("rotation", "config", "rm", path)
        r = self.rk("rotation", "config", "get", path, rc=1)
        self.assertIn("404", r.stderr)
        self.rk("rotation", "config", "rm", path, rc=1)

    def test_set_from_file_stdin_and_override(self):
        path = uniq("rot/cfgfile")
        cfg = {"rotator": "generic", "grace": "5m", "generator": {"type": "bytes", "length": 24}}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(cfg, f)
        try:
            self.rk("rotation", "config", "set", path, "--file", f.name)
            doc = self.rk_json("rotation", "config", "get", path)["data"]
            self.assertEqual(doc["generator"]["type"], "bytes")
            self.assertEqual(doc["generator"]["length"], 24)
            # flags override the file's fields
            self.rk("rotation", "config", "set", path, "--file", f.name, "--length", "48")
            doc = self.rk_json("rotation", "config", "get", path)["data"]
            self.assertEqual(doc["generator"], {"type": "bytes", "length": 48,
                                                "encoding": doc["generator"]["encoding"]})
        finally:
            os.unlink(f.name)
        cfg["generator"] = {"type": "uuid"}
        self.rk("rotation", "config", "set", path, "--file", "-", stdin_text=json.dumps(cfg))
        self.assertEqual(self.rk_json("rotation", "config", "get", path)["data"]["generator"],
                         {"type": "uuid"})

    def test_misconfigured_reports_every_problem_and_stores_nothing(self):
        path = uniq("rot/bad")
        args = ("rotation", "config", "set", path, "--rotator", "generic",
                "--param", "nope=1", "--schedule", "rate(soon)", "--grace", "forever",
                "--max-attempts", "99", "--generator-type", "dice", "--notify", "ftp://x/y")
        r = self.rk(*args, rc=1)
        expected = ("params.nope", "schedule", "grace", "retry.max_attempts", "generator.type",
                    "notify")
        problem_lines = [l.strip() for l in r.stderr.splitlines() if l.startswith("  ")]
        for field in expected:
            self.assertTrue(any(l.startswith(field + ":") for l in problem_lines),
                            "problem %r missing, one per line, in %r" % (field, r.stderr))
        self.assertEqual(len(problem_lines), len(expected), r.stderr)
        self.assertIn("%d problems" % len(expected), r.stderr)
        self.rk("rotation", "config", "get", path, rc=1)
        self.assertEqual(api(SRV, "GET", "/v1/rotation/config/" + path, want=None).status, 404)
        # An existing valid config survives a bad update.
        self.rk("rotation", "config", "set", path, "--rotator", "generic", "--grace", "7m")
        before = self.rk_json("rotation", "config", "get", path)["data"]
        self.rk(*args, rc=1)
        self.assertEqual(self.rk_json("rotation", "config", "get", path)["data"], before)

    def test_usage_errors_are_2(self):
        p = uniq("rot/usage")
        cases = [
            ("rotation", "config", "set", p),                                  # nothing to set
            ("rotation", "config", "set", p, "--rotator", "generic", "--param", "novalue"),
            ("rotation", "config", "set", p, "--params-json", "[1]"),
            ("rotation", "config", "set", p, "--params-json", "{bad"),
            ("rotation", "config", "set", p, "--file", "/nonexistent/rekey.json"),
            ("rotation", "config", "set", p, "--length", "abc"),
            ("rotation", "config"),
            ("rotation", "history"),
            ("rotate",),
            ("rotate", p, "--due"),
            ("rotate", "--due", "--prefix", "x/"),
            ("rotate", "--dry-run", "--due"),
            ("rotate", p, "--dry-run", "--incident"),
            ("rotate", "--prefix", "x/", "--parallel", "0"),
            ("rotation", "events", "--after", "x"),
            ("rotation", "status", "--limit", "0"),
        ]
        for args in cases:
            with self.subTest(args=args):
                r = run(args)
                self.assertEqual(r.returncode, 2, "rekey %s: exit %d, stderr %r"
                                 % (" ".join(args), r.returncode, r.stderr[-300:]))
                self.assertTrue(r.stderr.strip())
        self.rk("rotation", "config", "get", p, rc=1)

    def test_missing_config_and_bad_token_are_1(self):
        p = uniq("rot/none")
        self.rk("rotate", p, rc=1)
        self.rk("rotate", p, "--dry-run", rc=1)
        self.rk("rotation", "history", p, rc=1)
        env = clean_env(SRV, REKEY_TOKEN="wrong")
        r = subprocess.run([BIN, "rotation", "status"], env=env, capture_output=True, text=True,
                           timeout=CLI_TIMEOUT_S)
        self.assertEqual(r.returncode, 1)
        self.assertIn("permission denied", r.stderr)


# ---- rotate --------------------------------------------------------------------------------

class RotateCommands(Base):

    def test_rotate_generic_keeps_other_fields_and_history(self):
        path, old = self.generic_secret("rot/gen", fields=("api_key",),
                                        extra=("--generator-type", "api_key", "--prefix", "sk_t_",
                                               "--length", "40"))
        old["note"] = "kept"
        put_secret(SRV, path, old)  # version 2 with an extra field
        p = self.rk("rotate", path, "--wait")
        self.assertIn("rotated", p.stdout)
        new = read_secret(SRV, path)
        SECRETS.track(new["api_key"])
        self.assertNotEqual(new["api_key"], old["api_key"])
        self.assertTrue(new["api_key"].startswith("sk_t_"), "generator prefix")
        self.assertEqual(new["user"], "app")
        self.assertEqual(new["note"], "kept")
        meta = metadata(SRV, path)
        self.assertEqual(meta["labels"].get("current"), 3)
        self.assertEqual(meta["labels"].get("previous"), 2)
        self.assertNotIn("pending", meta["labels"])
        self.assertEqual(read_secret(SRV, path, 2), old, "the old version is kept as it was")
        run_doc = runs_of(SRV, path)[0]
        run_doc = wait_run(SRV, path, run_doc["id"], until="end")
        self.assertEqual(run_doc["outcome"], "succeeded")
        steps = [(s["step"], s["result"]) for s in run_doc["steps"]]
        self.assertEqual(steps, [("create", "ok"), ("set", "ok"), ("test", "ok"),
                                 ("finish", "ok"), ("revoke", "ok")])
        hist = self.rk("rotation", "history", path).stdout
        for word in ("create", "set", "test", "finish", "revoke", "succeeded", run_doc["id"],
                     "2 -> 3"):
            self.assertIn(word, hist)
        doc = self.rk_json("rotation", "history", path, "--limit", "1")
        self.assertEqual(len(doc["data"]["runs"]), 1)
        self.assertEqual([s["step"] for s in doc["data"]["runs"][0]["steps"]],
                         ["create", "set", "test", "finish", "revoke"])

    def test_rotate_without_wait_prints_the_run(self):
        path, _ = self.generic_secret("rot/nowait")
        doc = self.rk_json("rotate", path)
        self.assertEqual(doc["data"]["path"], path)
        self.assertEqual(doc["data"]["trigger"], "manual")
        run_doc = wait_run(SRV, path, doc["data"]["id"], until="end")
        self.assertEqual(run_doc["outcome"], "succeeded")
        track_current(SRV, path)
        path2, _ = self.generic_secret("rot/nowait")
        out = self.rk("rotate", path2).stdout
        self.assertIn("Started rotation of %s" % path2, out)
        wait_run(SRV, path2, runs_of(SRV, path2)[0]["id"], until="end")
        track_current(SRV, path2)

    def test_dry_run_changes_nothing(self):
        path, _ = self.generic_secret("rot/dry", grace="1h")
        meta_before = metadata(SRV, path)
        p = self.rk("rotate", path, "--dry-run")
        self.assertIn("no problems", p.stdout)
        self.assertIn("create version 2", p.stdout)
        self.assertEqual(metadata(SRV, path), meta_before, "a dry run changes no metadata")
        self.assertEqual(runs_of(SRV, path), [], "a dry run starts no run")
        doc = self.rk_json("rotate", path, "--dry-run")["data"]
        self.assertEqual((doc["dry_run"], doc["ok"], doc["problems"]), (True, True, []))
        self.assertTrue(doc["plan"])

        # Not rotatable now (a run is in grace): every problem is reported, exit 1, no change.
        self.rk("rotate", path, "--wait")
        track_current(SRV, path)
        meta_before = metadata(SRV, path)
        runs_before = runs_of(SRV, path)
        p = self.rk("rotate", path, "--dry-run", rc=1)
        self.assertIn("1 problem found", p.stdout)
        self.assertIn("in progress", p.stdout)
        doc = self.rk_json("rotate", path, "--dry-run", rc=1)["data"]
        self.assertIs(doc["ok"], False)
        self.assertEqual(len(doc["problems"]), 1)
        self.assertEqual(metadata(SRV, path), meta_before)
        self.assertEqual(runs_of(SRV, path), runs_before)

    def test_second_rotate_in_grace_is_409_then_incident_ends_grace(self):
        path, _ = self.generic_secret("rot/conflict", grace="1h")
        first = self.rk_json("rotate", path, "--wait")["data"]
        self.assertEqual(first["phase"], "grace")
        track_current(SRV, path)
        r = self.rk("rotate", path, rc=1)
        self.assertIn("already in progress", r.stderr)
        self.assertIn("HTTP 409", r.stderr)
        raw = api(SRV, "POST", "/v1/rotation/rotate/" + path, {}, want=409)
        self.assertIn("already in progress", raw.json["errors"][0])
        self.rk("rotation", "config", "rm", path, rc=1)  # not while a run is in progress
        status = self.rk("rotation", "status", "--prefix", path).stdout
        self.assertIn("in progress grace", status)

        # --incident: the grace ends now, the incident run follows; --wait follows it.
        doc = self.rk_json("rotate", path, "--incident", "--wait")["data"]
        self.assertEqual(doc["trigger"], "incident")
        self.assertNotEqual(doc["id"], first["id"])
        final = wait_run(SRV, path, doc["id"], until="end")
        self.assertEqual(final["outcome"], "succeeded")
        self.assertEqual(final["grace_seconds"], 0)
        self.assertEqual(get_run(SRV, path, first["id"])["outcome"], "succeeded")
        meta = metadata(SRV, path)
        self.assertEqual(meta["labels"]["current"], 3)
        self.assertEqual(meta["labels"]["previous"], 2)
        self.assertNotIn("pending", meta["labels"])
        track_current(SRV, path)

    def test_incident_has_no_grace(self):
        path, old = self.generic_secret("rot/incident", grace="1h")
        doc = self.rk_json("rotate", path, "--incident", "--wait")["data"]
        self.assertEqual(doc["trigger"], "incident")
        final = wait_run(SRV, path, doc["id"], until="end")
        self.assertEqual(final["outcome"], "succeeded")
        self.assertEqual(final["grace_seconds"], 0)
        steps = {s["step"]: s for s in final["steps"]}
        self.assertEqual(list(steps), ["create", "set", "test", "finish", "revoke"])
        gap = parse_time(steps["revoke"]["started"]) - parse_time(steps["finish"]["ended"])
        self.assertLess(gap, 1.0, "an incident revokes right after finish, without grace")
        self.assertNotEqual(track_current(SRV, path), old["value"])

    def test_status_table_and_json(self):
        path, _ = self.generic_secret("rot/status")
        self.rk("rotation", "config", "set", path, "--rotator", "generic", "--grace", "1s",
                "--schedule", "rate(30d)")
        out = self.rk("rotation", "status", "--prefix", path).stdout
        lines = out.splitlines()
        self.assertEqual(lines[0].split()[:3], ["PATH", "ROTATOR", "SCHEDULE"])
        row = [l for l in lines if l.startswith(path)]
        self.assertEqual(len(row), 1, out)
        self.assertIn("generic", row[0])
        self.assertIn("rate(30d)", row[0])
        self.assertTrue(row[0].rstrip().endswith("ok"), row[0])
        doc = self.rk_json("rotation", "status", "--prefix", path)
        s = doc["data"]["secrets"][0]
        self.assertEqual((s["path"], s["rotator"], s["in_progress"]), (path, "generic", False))
        self.assertIsNotNone(s["next_due"])
        self.rk("rotate", path, "--wait")
        track_current(SRV, path)
        self.assertIn("in progress grace", self.rk("rotation", "status", "--prefix", path).stdout)
        out = self.rk("rotation", "status", "--prefix", uniq("rot/nothing-here")).stdout
        self.assertIn("No secret", out)

    def test_events_list_and_json_lines(self):
        after = last_event_seq(SRV)
        path, _ = self.generic_secret("rot/events")
        run_id = self.rk_json("rotate", path, "--wait")["data"]["id"]
        wait_run(SRV, path, run_id, until="end")
        track_current(SRV, path)
        out = self.rk("rotation", "events", "--after", str(after)).stdout
        mine = [l for l in out.splitlines() if path in l]
        types = [l.split()[2] for l in mine]
        self.assertEqual(types, ["rotation.started", "rotation.promoted", "rotation.revoked",
                                 "rotation.completed"], out)
        self.assertTrue(all(run_id in l for l in mine))
        lines = self.rk("rotation", "events", "--after", str(after), "--format", "json").stdout
        events = [json.loads(l) for l in lines.splitlines()]
        self.assertEqual([e["seq"] for e in events], sorted(e["seq"] for e in events))
        self.assertTrue(all(e["seq"] > after for e in events))
        self.assertIn("rotation.completed", [e["type"] for e in events if e["path"] == path])

    def test_events_long_poll_returns_on_rotation(self):
        path, _ = self.generic_secret("rot/poll")
        after = last_event_seq(SRV)
        result = {}

        def poll():
            t0 = time.monotonic()
            r = SRV.request("GET", "/v1/rotation/events?after=%d&wait=30s" % after, timeout=40)
            result["elapsed"] = time.monotonic() - t0
            result["response"] = r

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.5)  # the poll is parked on the server
        self.assertNotIn("response", result, "the long poll answered before anything happened")
        t_rotate = time.monotonic()
        self.rk("rotate", path)
        t.join(15)
        self.assertFalse(t.is_alive(), "the long poll did not return after a rotation")
        r = result["response"]
        self.assertEqual(r.status, 200, r)
        events = r.json["data"]["events"]
        self.assertTrue(events)
        self.assertEqual(events[0]["path"], path)
        self.assertEqual(events[0]["type"], "rotation.started")
        self.assertGreater(result["elapsed"], 0.4)
        self.assertLess(time.monotonic() - t_rotate, 10)
        self.assertEqual(r.json["data"]["last_seq"], events[-1]["seq"])
        wait_run(SRV, path, events[0]["run_id"], until="end")
        track_current(SRV, path)

    def test_events_follow_streams_until_interrupted(self):
        path, _ = self.generic_secret("rot/follow")
        after = last_event_seq(SRV)
        proc = subprocess.Popen([BIN, "rotation", "events", "--follow", "--after", str(after),
                                 "--format", "json"], env=clean_env(SRV), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        seen = []
        done = threading.Event()

        def reader():
            for line in proc.stdout:
                seen.append(json.loads(line))
                if seen[-1]["type"] == "rotation.completed" and seen[-1]["path"] == path:
                    done.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            time.sleep(0.3)
            self.rk("rotate", path, "--incident")
            self.assertTrue(done.wait(15), "follow printed %r" % seen)
            self.assertIsNone(proc.poll(), "--follow keeps running")
        finally:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=10)
        with CLI_LOCK:
            CLI_OUTPUTS.append((("events", "--follow"), json.dumps(seen) + err))
        self.assertEqual([e["type"] for e in seen if e["path"] == path][:2],
                         ["rotation.started", "rotation.promoted"])
        track_current(SRV, path)


class NotifyWebhooks(Base):
    """The `notify` webhooks of a rotation config get the secret's events, signed."""

    def test_events_reach_the_webhooks_signed(self):
        import hashlib
        import hmac
        import http.server
        import threading
        received = []

        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append((self.path, dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=hook.serve_forever, daemon=True).start()
        try:
            key = SECRETS.new("hk")
            put_secret(SRV, uniq("ops/notify-key"), {})  # unrelated, exercises the path check
            key_path = uniq("ops/hook")
            put_secret(SRV, key_path, {"hmac_key": key})
            path = uniq("app/notified")
            put_secret(SRV, path, {"value": SECRETS.new()})
            base = "http://127.0.0.1:%d" % hook.server_address[1]
            set_config(SRV, path, {"rotator": "generic", "grace": "0s", "notify": [
                base + "/plain", {"url": base + "/signed", "signing_secret": key_path}]})
            run_id = api(SRV, "POST", "/v1/rotation/rotate/" + quote_path(path), {}).json["data"]["id"]
            wait_run(SRV, path, run_id, until="end")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                kinds = {(p, json.loads(b)["type"]) for p, _, b in received}
                if ("/signed", "rotation.completed") in kinds and ("/plain", "rotation.completed") in kinds:
                    break
                time.sleep(0.05)
            kinds = {(p, json.loads(b)["type"]) for p, _, b in received}
            for where in ("/plain", "/signed"):
                self.assertIn((where, "rotation.started"), kinds)
                self.assertIn((where, "rotation.completed"), kinds)
            for p, headers, body in received:
                doc = json.loads(body)
                self.assertEqual(doc["path"], path)
                self.assertEqual(doc["run_id"], run_id)
                sig = headers.get("X-Rekey-Signature")
                if p == "/plain":
                    self.assertIsNone(sig)
                    continue
                parts = dict(item.split("=", 1) for item in sig.split(","))
                want = hmac.new(key.encode(), (parts["t"] + ".").encode() + body,
                                hashlib.sha256).hexdigest()
                self.assertEqual(parts["v1"], want, "bad webhook signature")
        finally:
            hook.shutdown()
            hook.server_close()


class BulkRotation(Base):

    def test_rotate_prefix_with_summary(self):
        prefix = uniq("bulk") + "/"
        paths = []
        olds = {}
        for i in range(5):
            p = "%sapp%d" % (prefix, i)
            olds[p] = SECRETS.new()
            put_secret(SRV, p, {"value": olds[p], "user": "u%d" % i})
            self.rk("rotation", "config", "set", p, "--rotator", "generic", "--grace", "1h")
            paths.append(p)
        busy = prefix + "busy"
        put_secret(SRV, busy, {"value": SECRETS.new()})
        self.rk("rotation", "config", "set", busy, "--rotator", "generic", "--grace", "1h")
        self.rk("rotate", busy, "--wait")
        track_current(SRV, busy)

        p = self.rk("rotate", "--prefix", prefix)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["PATH", "RUN", "OUTCOME", "ERROR"])
        for path in paths:
            row = [l for l in lines if l.startswith(path + " ")]
            self.assertEqual(len(row), 1, p.stdout)
            self.assertIn("rotated", row[0])
        busy_row = [l for l in lines if l.startswith(busy + " ")][0]
        self.assertIn("skipped", busy_row)
        self.assertIn("in progress", busy_row)
        self.assertIn("6 secrets: 5 rotated, 0 failed, 1 skipped", p.stdout)
        progress = [l for l in p.stderr.splitlines() if l.startswith("[")]
        self.assertEqual(len(progress), 6, "one line per secret without a TTY: %r" % p.stderr)
        for path in paths:
            new = track_current(SRV, path)
            self.assertNotEqual(new, olds[path])
            self.assertEqual(metadata(SRV, path)["labels"]["previous"], 1)

        # Everything is in grace now: all skipped; JSON summary.
        doc = self.rk_json("rotate", "--prefix", prefix)
        self.assertEqual((doc["rotated"], doc["failed"], doc["skipped"]), (0, 0, 6))
        self.assertEqual(sorted(r["path"] for r in doc["results"]), sorted(paths + [busy]))

        # --incident ends the graces and rotates again, each to version 3.
        doc = self.rk_json("rotate", "--prefix", prefix, "--incident", "--parallel", "2")
        self.assertEqual((doc["rotated"], doc["failed"], doc["skipped"]), (6, 0, 0), doc)
        for path in paths:
            track_current(SRV, path)
            self.assertEqual(metadata(SRV, path)["labels"]["current"], 3)

    def test_rotate_prefix_progress_bar_on_a_tty(self):
        prefix = uniq("bulktty") + "/"
        for i in range(3):
            put_secret(SRV, "%ss%d" % (prefix, i), {"value": SECRETS.new()})
            self.rk("rotation", "config", "set", "%ss%d" % (prefix, i), "--rotator", "generic",
                    "--grace", "1s")
        master, slave = pty.openpty()
        proc = subprocess.Popen([BIN, "rotate", "--prefix", prefix], env=clean_env(SRV),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        tty_out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            tty_out += chunk
        os.close(master)
        out = proc.communicate(timeout=30)[0].decode()
        self.assertEqual(proc.returncode, 0, out + tty_out.decode("utf-8", "replace"))
        text = tty_out.decode("utf-8", "replace")
        with CLI_LOCK:
            CLI_OUTPUTS.append((("rotate", "--prefix", "tty"), out + text))
        self.assertIn("\r", text)
        self.assertIn("[##############################] 3/3", text, repr(text))
        self.assertIn("3 secrets: 3 rotated, 0 failed, 0 skipped", out)
        for i in range(3):
            track_current(SRV, "%ss%d" % (prefix, i))

    def test_rotate_due(self):
        tmp = tempfile.mkdtemp(prefix="rekey-it-due-cfg-")
        cfg = os.path.join(tmp, "rekey.yaml")
        with open(cfg, "w") as f:
            # A day of jitter keeps the scheduler from starting the due rotations itself
            # (it would start them at due + jitter); `rotate --due` ignores jitter.
            f.write("rotation:\n  max_jitter: 24h\n  default_grace: 1h\n")
        srv = RekeyServer(name="due", extra_args=["--config", cfg]).__enter__()
        try:
            self.rk("rotate", "--due", srv=srv)  # nothing yet
            not_after = (datetime.datetime.now(datetime.timezone.utc)
                         + datetime.timedelta(seconds=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
            due = []
            for i in range(3):
                p = "due/s%d" % i
                put_secret(srv, p, {"value": SECRETS.new(), "not_after": not_after})
                self.rk("rotation", "config", "set", p, "--rotator", "generic",
                        "--schedule", "before_expiry(1m)", srv=srv)
                due.append(p)
            put_secret(srv, "due/later", {"value": SECRETS.new()})
            self.rk("rotation", "config", "set", "due/later", "--rotator", "generic",
                    "--schedule", "rate(30d)", srv=srv)
            status = self.rk("rotation", "status", "--prefix", "due/", srv=srv).stdout
            for p in due:
                self.assertTrue([l for l in status.splitlines()
                                 if l.startswith(p + " ") and l.rstrip().endswith("overdue")],
                                status)
            p = self.rk("rotate", "--due", srv=srv)
            self.assertIn("3 secrets: 3 rotated, 0 failed, 0 skipped", p.stdout)
            self.assertNotIn("due/later", p.stdout)
            for path in due:
                self.assertEqual(metadata(srv, path)["labels"]["current"], 2)
                track_current(srv, path)
                self.assertEqual(runs_of(srv, path)[0]["trigger"], "due")
            self.assertEqual(runs_of(srv, "due/later"), [])
            doc = self.rk_json("rotate", "--due", srv=srv)  # all in grace: nothing due
            self.assertEqual(doc["results"], [])
            SECRETS.check(srv, label="rotate --due server")
        finally:
            srv.__exit__(None, None, None)
            shutil.rmtree(tmp, ignore_errors=True)


# ---- kill -9 crash test ----------------------------------------------------------------------

class CrashServer(RekeyServer):
    """A RekeyServer whose next start may be armed with REKEY_TEST_CRASH_AT."""

    crash_at = None

    def command(self):
        env = ["/usr/bin/env", "-u", "REKEY_TEST_CRASH_AT"]
        if self.crash_at:
            env.append("REKEY_TEST_CRASH_AT=" + self.crash_at)
        return env + super().command()


class CrashLane:
    """One crash point, CRASH_REPEAT times, on its own server and data dir."""

    def __init__(self, phase, when, repeat):
        self.phase, self.when, self.repeat = phase, when, repeat
        self.srv = CrashServer(name="crash-%s-%s" % (phase, when))
        self.problems = []
        self.secrets = []   # (path, original data)
        self.run_ids = {}
        self.outcomes = {}
        self.restarts = 0

    def problem(self, i, text):
        self.problems.append("%s:%s #%d: %s" % (self.phase, self.when, i, text))

    def rotate(self, path):
        try:
            r = self.srv.request("POST", "/v1/rotation/rotate/" + path, {}, timeout=10)
            return r.json["data"]["id"] if r.status == 200 else None
        except (OSError, http.client.HTTPException):
            return None  # the server died before answering

    def run(self):
        try:
            self._run()
        except Exception as e:  # noqa: BLE001 - reported as a problem of this lane
            self.problems.append("%s:%s: %s: %s" % (self.phase, self.when, type(e).__name__, e))
            self.srv._failed = True
        finally:
            if self.srv.proc is not None:
                self.srv.kill9()
        return self

    def _run(self):
        srv = self.srv
        srv.start()
        for i in range(self.repeat):
            path = "crash/%s-%s/s%02d" % (self.phase, self.when, i)
            data = {"value": SECRETS.new(), "user": "app"}
            put_secret(srv, path, data)
            set_config(srv, path, {"rotator": "generic", "grace": "1s"})
            self.secrets.append((path, data))
        srv.stop()
        for i, (path, data) in enumerate(self.secrets):
            srv.crash_at = "%s:%s" % (self.phase, self.when)
            srv.start()
            srv.crash_at = None
            self.rotate(path)
            try:
                rc = srv.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.problem(i, "the server did not crash within 20 s")
                rc = None
            srv.kill9()
            if rc is not None and rc != -signal.SIGKILL:
                self.problem(i, "the server exited with %r, not SIGKILL" % rc)
            srv.start()
            self.restarts += 1
            self.check_at_rest(i, path, data)
            if self.phase == "revoke":
                self.check_final(i, path, data)
            srv.stop()
        if self.phase != "revoke":
            srv.start()
            for i, (path, data) in enumerate(self.secrets):
                self.check_final(i, path, data)
            srv.stop()

    def newest_run(self, path):
        runs = runs_of(self.srv, path)
        return runs[0] if runs else None

    def check_invariants(self, i, path, data, run_doc):
        meta = metadata(self.srv, path)
        labels = meta["labels"]
        if "pending" in labels:
            self.problem(i, "pending label left: %r" % labels)
        if "current" not in labels or labels["current"] != meta["current_version"]:
            self.problem(i, "current label %r vs current_version %r"
                         % (labels.get("current"), meta["current_version"]))
        v1 = meta["versions"].get("1", {})
        if v1.get("destroyed") or v1.get("deletion_time"):
            self.problem(i, "version 1 lost: %r" % v1)
        if read_secret(self.srv, path, 1) != data:
            self.problem(i, "version 1 changed")
        current = read_secret(self.srv, path)
        rotated = run_doc["outcome"] == "succeeded" or run_doc["phase"] in ("grace", "revoke")
        if rotated:
            if labels.get("current") != run_doc["pending_version"] or labels.get("previous") != 1:
                self.problem(i, "rotated run %s but labels %r" % (run_doc["id"], labels))
            if current.get("value") == data["value"] or current.get("user") != "app":
                self.problem(i, "rotated run but the current value is not a new one")
            if isinstance(current.get("value"), str) and len(current["value"]) >= 16:
                SECRETS.track(current["value"])
        else:
            if labels.get("current") != 1 or current != data:
                self.problem(i, "run %s ended %s but current moved: %r"
                             % (run_doc["id"], run_doc["outcome"], labels))

    def check_at_rest(self, i, path, data):
        run_doc = self.newest_run(path)
        if run_doc is None:
            self.problem(i, "no run recorded")
            return
        self.run_ids[path] = run_doc["id"]
        run_doc = wait_run(self.srv, path, run_doc["id"], until="rest")
        crashed_steps = [s for s in run_doc["steps"]
                         if s["step"] == self.phase and s["result"] == "interrupted"]
        if self.phase != "revoke" and not crashed_steps:
            # revoke: checked at the end (the run may not have reached revoke's record yet).
            self.problem(i, "no interrupted %s step in %r" % (self.phase, run_doc["steps"]))
        self.check_invariants(i, path, data, run_doc)

    def check_final(self, i, path, data):
        run_id = self.run_ids.get(path)
        if run_id is None:
            return
        run_doc = wait_run(self.srv, path, run_id, until="end", timeout=30)
        self.outcomes[run_doc["outcome"]] = self.outcomes.get(run_doc["outcome"], 0) + 1
        if run_doc["outcome"] not in ("succeeded", "failed"):
            self.problem(i, "run ended %r: %s" % (run_doc["outcome"], run_doc["error"]))
        if self.phase == "revoke" and not any(
                s["step"] == "revoke" and s["result"] == "interrupted" for s in run_doc["steps"]):
            self.problem(i, "no interrupted revoke step in %r" % run_doc["steps"])
        self.check_invariants(i, path, data, run_doc)


class CrashRecovery(unittest.TestCase):

    def test_kill9_at_every_step_resumes_or_rolls_back(self):
        t0 = time.monotonic()
        lanes = [CrashLane(p, w, CRASH_REPEAT) for p in CRASH_PHASES for w in CRASH_WHEN]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, CRASH_LANES)) as pool:
            done = list(pool.map(lambda lane: lane.run(), lanes))
        elapsed = time.monotonic() - t0
        crashes = sum(l.restarts for l in done)
        print("\ncrash test: %d crash points x %d = %d kill -9 + restarts in %.1fs (%d lanes in "
              "parallel)" % (len(done), CRASH_REPEAT, crashes, elapsed, CRASH_LANES))
        for lane in done:
            print("  %-7s %-6s restarts %2d  outcomes %s" % (lane.phase, lane.when, lane.restarts,
                                                            lane.outcomes))
        sys.stdout.flush()
        for lane in done:
            with self.subTest(point="%s:%s" % (lane.phase, lane.when)):
                self.assertEqual(lane.problems, [])
                self.assertEqual(lane.restarts, CRASH_REPEAT)
                self.assertEqual(sum(lane.outcomes.values()), CRASH_REPEAT)
        SECRETS.check(*[lane.srv for lane in done], label="crash servers")


if __name__ == "__main__":
    harness.main()
