#!/usr/bin/python3
"""Storage key rotation under load, with SIGKILL during the rewrap (issue 6).

A dev server is seeded with SEED_SECRETS KV secrets (parallel threads).  Then, while
WRITERS threads keep writing (new versions of existing secrets and new secrets; every
ACKNOWLEDGED write's version and value is recorded) and READERS threads keep reading:

  * POST /v1/sys/rotate, poll GET /v1/sys/key-status until the rewrap has committed pages
    of its first pass (done > 0, not finished), SIGKILL the server at once, restart it on the
    same data dir: the rewrap must resume (same target key, progress not behind what was seen
    before the kill) and finish (active false, every older key "disabled", unreadable 0);
    this is done KILL_ROUNDS times;
  * then every secret is read back: the current version of each path is at least the newest
    acknowledged one, the newest acknowledged version holds exactly its value, a current
    version beyond it holds a value that was attempted for that path, every version listed in
    the metadata of a sample of paths reads back, and LIST shows every acknowledged path.

A second test rotates twice in a row (the second during the first's rewrap) without a kill,
the second time through the CLI (`rekey operator rotate --wait`, `rekey status`), and checks
that every record is readable and that all older keys end disabled.

Values come from SecretTracker.new() (one tracker per test); the leak check (server log,
audit file, error bodies) runs at the end of each test.

Env: REKEY_ROT_SECRETS (default 2000), REKEY_ROT_SEED (default 20251126), REKEY_BIN.
Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_storage_rotation.py -v
"""

import collections
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker  # noqa: E402

SEED_SECRETS = int(os.environ.get("REKEY_ROT_SECRETS", "2000"))
SEED = int(os.environ.get("REKEY_ROT_SEED", "20251126"))
SEED_THREADS = 8
WRITERS = 4
READERS = 2
KILL_ROUNDS = 2
REQ_TIMEOUT_S = 10.0
REWRAP_TIMEOUT_S = 60.0
# Pauses that keep the load continuous but bounded: the leak check costs
# (values written) x (bytes of log and audit).
WRITE_PAUSE_S = 0.002
READ_PAUSE_S = 0.005


class Conn:
    """A keep-alive connection to the server that follows it across restarts."""

    def __init__(self, srv):
        self.srv = srv
        self.addr = None
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def request(self, method, path, body=None):
        """Returns (status, json or None).  Raises ConnectionRefusedError when the request
        surely was not sent (server down), OSError/HTTPException for anything else."""
        addr = self.srv.addr
        if addr is None:
            raise ConnectionRefusedError("server down")
        if self.conn is None or addr != self.addr:
            self.close()
            host, port = addr.rsplit(":", 1)
            self.conn = http.client.HTTPConnection(host, int(port), timeout=REQ_TIMEOUT_S)
            self.addr = addr
            try:
                self.conn.connect()
            except OSError:
                self.close()
                raise
        hdrs = {"X-Vault-Token": self.srv.token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
            raw = resp.read()
        except Exception:
            self.close()
            raise
        if resp.getheader("connection", "").lower() == "close":
            self.close()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        return resp.status, doc


def kv_body(value, path):
    return {"data": {"v": value, "n": path}}


class Model:
    """What the clients know: for each path, the newest acknowledged (version, value) and every
    value ever attempted (an unacknowledged write may have landed)."""

    def __init__(self):
        self.tracker = SecretTracker()  # this test's values
        self.lock = threading.Lock()
        self.acked = {}                              # path -> (version, value)
        self.attempted = collections.defaultdict(set)  # path -> {values}
        self.stats = collections.Counter()
        self.errors = []

    def attempt(self, path, value):
        with self.lock:
            self.attempted[path].add(value)

    def ack(self, path, version, value):
        with self.lock:
            cur = self.acked.get(path)
            if cur is not None and version <= cur[0]:
                self.errors.append("%s: write acknowledged as version %d after version %d"
                                   % (path, version, cur[0]))
            if cur is None or version > cur[0]:
                self.acked[path] = (version, value)

    def error(self, msg):
        with self.lock:
            if len(self.errors) < 200:
                self.errors.append(msg)

    def count(self, what):
        with self.lock:
            self.stats[what] += 1

    def paths(self):
        with self.lock:
            return list(self.acked)


def write(conn, model, path, value):
    """One write; retries while the server is down (refused = never sent).
    Returns True if acknowledged."""
    model.attempt(path, value)
    while True:
        try:
            status, doc = conn.request("POST", "/v1/secret/data/" + path, kv_body(value, path))
        except ConnectionRefusedError:
            model.count("refused")
            time.sleep(0.02)
            continue
        except Exception as e:  # reset, timeout, disconnected: the write may or may not land
            model.count("unacked:" + type(e).__name__)
            return False
        break
    if status != 200:
        model.count("unacked:http-%d" % status)
        if status not in (502, 503):
            model.error("write %s: HTTP %d %r" % (path, status, doc))
        return False
    try:
        version = doc["data"]["version"]
    except (KeyError, TypeError):
        model.error("write %s: bad 200 body" % path)
        return False
    model.count("acked")
    model.ack(path, version, value)
    return True


class Load:
    """WRITERS writer threads and READERS reader threads that follow the server across kills."""

    def __init__(self, srv, model, rng):
        self.srv = srv
        self.model = model
        self.stop = threading.Event()
        self.seeds = [rng.getrandbits(64) for _ in range(WRITERS + READERS)]
        self.threads = []
        self.new_paths = 0
        self.lock = threading.Lock()

    def start(self):
        for i in range(WRITERS):
            self.threads.append(threading.Thread(target=self.writer, args=(i,), daemon=True))
        for i in range(READERS):
            self.threads.append(threading.Thread(target=self.reader, args=(WRITERS + i,),
                                                 daemon=True))
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(REQ_TIMEOUT_S + 30)
            if t.is_alive():
                self.model.error("a load thread did not stop")

    def writer(self, tid):
        rng = random.Random(self.seeds[tid])
        conn = Conn(self.srv)
        seq = 0
        paths = self.model.paths()
        while not self.stop.is_set():
            if rng.random() < 0.3:
                seq += 1
                path = "load/w%d/%06d" % (tid, seq)  # a new secret
            else:
                path = rng.choice(paths)  # a new version of an existing one
            write(conn, self.model, path, self.model.tracker.new("sr"))
            time.sleep(WRITE_PAUSE_S)
        conn.close()

    def reader(self, tid):
        rng = random.Random(self.seeds[tid])
        conn = Conn(self.srv)
        paths = self.model.paths()
        while not self.stop.is_set():
            path = rng.choice(paths)
            try:
                status, doc = conn.request("GET", "/v1/secret/data/" + path)
            except Exception:  # server down or killed under us
                self.model.count("read-failed-conn")
                time.sleep(0.01)
                continue
            if status == 200 and isinstance(doc, dict) and \
                    doc.get("data", {}).get("data", {}).get("n") == path:
                self.model.count("read-ok")
                time.sleep(READ_PAUSE_S)
            elif status in (502, 503):
                self.model.count("read-%d" % status)
            else:
                self.model.error("read %s during load: HTTP %d %r" % (path, status, doc))
        conn.close()


def seed(srv, model, n, threads=SEED_THREADS):
    def run(tid):
        conn = Conn(srv)
        for i in range(tid, n, threads):
            path = "seed/%02d/%06d" % (i % 50, i)
            if not write(conn, model, path, model.tracker.new("sr")):
                model.error("seed write %s not acknowledged" % path)
        conn.close()
    ts = [threading.Thread(target=run, args=(t,), daemon=True) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def key_status(srv):
    r = srv.request("GET", "/v1/sys/key-status", timeout=REQ_TIMEOUT_S)
    assert r.status == 200, r
    return r.json["data"]


def wait_rewrap_done(test, srv, target, timeout=REWRAP_TIMEOUT_S):
    """Waits until the rewrap towards `target` finished; returns the final key status."""
    deadline = time.monotonic() + timeout
    while True:
        ks = key_status(srv)
        rw = ks["rewrap"]
        if not rw["active"] and rw["finished"]:
            break
        if time.monotonic() > deadline:
            test.fail("rewrap not finished within %.0fs: %r" % (timeout, rw))
        time.sleep(0.05)
    test.assertEqual(ks["primary_key_id"], target, ks)
    test.assertEqual(rw["target_key_id"], target, ks)
    test.assertEqual(rw["unreadable"], 0, "records no enabled key decrypts: %r" % rw)
    for k in ks["keys"]:
        if k["id"] == target:
            test.assertEqual((k["status"], k["primary"]), ("enabled", True), ks)
        else:
            test.assertEqual((k["status"], k["primary"]), ("disabled", False),
                             "older key not disabled after the rewrap: %r" % ks)
    return ks


def verify(test, srv, model, sample_all_versions=300, rng=None):
    """Every path reads back; acknowledged writes are all present (see the module doc)."""
    t0 = time.monotonic()
    conn = Conn(srv)
    bad = []
    acked = dict(model.acked)
    paths = sorted(acked)
    beyond = 0
    for path in paths:
        version, value = acked[path]
        status, doc = conn.request("GET", "/v1/secret/data/" + path)
        if status != 200:
            bad.append("%s: current version unreadable: HTTP %d %r" % (path, status, doc))
            continue
        cur = doc["data"]["metadata"]["version"]
        data = doc["data"]["data"]
        if cur < version:
            bad.append("%s: acknowledged version %d lost (current %d)" % (path, version, cur))
            continue
        if cur == version:
            if data != kv_body(value, path)["data"]:
                bad.append("%s: version %d holds the wrong value" % (path, version))
            continue
        beyond += 1  # an unacknowledged write landed after the newest acknowledged one
        if data.get("n") != path or data.get("v") not in model.attempted[path]:
            bad.append("%s: current version %d holds a value never written" % (path, cur))
        if cur - version < 10:  # not pruned (max_versions 10)
            status, doc = conn.request("GET", "/v1/secret/data/%s?version=%d" % (path, version))
            if status != 200 or doc["data"]["data"] != kv_body(value, path)["data"]:
                bad.append("%s: acknowledged version %d: HTTP %d" % (path, version, status))
    # Every version still kept, for a sample of paths (older versions are records too).
    rng = rng or random.Random(SEED)
    versions_read = 0
    for path in rng.sample(paths, min(sample_all_versions, len(paths))):
        status, doc = conn.request("GET", "/v1/secret/metadata/" + path)
        if status != 200:
            bad.append("%s: metadata unreadable: HTTP %d" % (path, status))
            continue
        for v, meta in doc["data"]["versions"].items():
            if meta.get("destroyed") or meta.get("deletion_time"):
                continue
            status, d = conn.request("GET", "/v1/secret/data/%s?version=%s" % (path, v))
            versions_read += 1
            if status != 200 or d["data"]["data"].get("v") not in model.attempted[path]:
                bad.append("%s: version %s unreadable or foreign: HTTP %d" % (path, v, status))
    # LIST shows every acknowledged path.
    folders = collections.defaultdict(set)
    for p in paths:
        folder, _, leaf = p.rpartition("/")
        folders[folder].add(leaf)
    for folder, leaves in sorted(folders.items()):
        status, doc = conn.request("LIST", "/v1/secret/metadata/" + folder)
        listed = set(doc["data"]["keys"]) if status == 200 else set()
        if not leaves <= listed:
            bad.append("LIST %s: missing %s" % (folder, sorted(leaves - listed)[:5]))
    conn.close()
    print("  verified %d paths (%d with a landed unacknowledged write beyond the newest "
          "acknowledged), %d old versions of %d sampled paths, %d folders in %.1fs: %d problems"
          % (len(paths), beyond, versions_read, min(sample_all_versions, len(paths)),
             len(folders), time.monotonic() - t0, len(bad)))
    sys.stdout.flush()
    if bad:
        srv._failed = True
        test.fail("%d problems, first 20:\n  %s" % (len(bad), "\n  ".join(bad[:20])))


class StorageRotation(unittest.TestCase):

    def test_kill9_during_rewrap_under_load(self):
        rng = random.Random(SEED)
        print("seed=%d secrets=%d writers=%d readers=%d kill rounds=%d"
              % (SEED, SEED_SECRETS, WRITERS, READERS, KILL_ROUNDS))
        with RekeyServer(name="storage-rotation") as srv:
            model = Model()
            t0 = time.monotonic()
            seed(srv, model, SEED_SECRETS)
            self.assertEqual(model.errors, [])
            print("  seeded %d secrets in %.1fs" % (len(model.acked), time.monotonic() - t0))
            first_key = key_status(srv)["primary_key_id"]
            load = Load(srv, model, rng)
            load.start()
            try:
                time.sleep(0.3)  # the load is running before the first rotation
                keys_seen = {first_key}
                for rnd in range(1, KILL_ROUNDS + 1):
                    target = self.rotate_and_kill(srv, rng, rnd)
                    self.assertNotIn(target, keys_seen)
                    keys_seen.add(target)
                    t1 = time.monotonic()
                    ks = wait_rewrap_done(self, srv, target)
                    print("  round %d: rewrap finished %.2fs after the restart (%d records "
                          "moved, pass %d); keys %s"
                          % (rnd, time.monotonic() - t1, ks["rewrap"]["rewrapped"],
                             ks["rewrap"]["pass"],
                             [(k["id"], k["status"]) for k in ks["keys"]]))
                    self.assertEqual(len(ks["keys"]), rnd + 1, ks)
                    sys.stdout.flush()
                    self.assertEqual(model.errors, [], "errors under load")
                time.sleep(0.3)  # some load after the last rewrap
            finally:
                load.finish()
            print("  load: %s" % dict(model.stats))
            self.assertEqual(model.errors, [], "errors under load")
            self.assertGreater(model.stats["acked"], SEED_SECRETS + 100, "too little load")
            verify(self, srv, model, rng=rng)
            # Once more after a clean restart: nothing depends on in-memory state.
            srv.restart()
            ks = key_status(srv)
            self.assertFalse(ks["rewrap"]["active"], ks)
            verify(self, srv, model, sample_all_versions=50, rng=rng)
            t2 = time.monotonic()
            model.tracker.check(srv, label="kill9 during rewrap")
            print("  leak check took %.1fs" % (time.monotonic() - t2))

    def rotate_and_kill(self, srv, rng, rnd):
        """Rotates, kills -9 during pass 1 of the rewrap, restarts and checks that the rewrap
        resumed.  Returns the new key id."""
        for attempt in range(1, 4):
            before = key_status(srv)
            r = srv.request("POST", "/v1/sys/rotate", timeout=REQ_TIMEOUT_S)
            self.assertEqual(r.status, 204, r)
            ks = key_status(srv)
            target = ks["primary_key_id"]
            self.assertNotEqual(target, before["primary_key_id"], ks)
            self.assertEqual(ks["rewrap"]["target_key_id"], target, ks)
            frac = rng.uniform(0.0, 0.6)  # where in pass 1 to strike
            seen = None
            deadline = time.monotonic() + REWRAP_TIMEOUT_S
            while time.monotonic() < deadline:
                rw = key_status(srv)["rewrap"]
                if not rw["active"]:
                    break  # finished before we struck: rotate again
                if rw["pass"] > 1 or (rw["done"] > 0 and rw["done"] >= frac * rw["total"]):
                    seen = rw
                    break
            if seen is not None:
                break
            print("  round %d attempt %d: the rewrap finished before the kill; rotating again"
                  % (rnd, attempt))
        else:
            self.fail("could not catch the rewrap in progress (make REKEY_ROT_SECRETS larger)")
        t_kill = time.monotonic()
        srv.kill9()
        srv.start()
        after = key_status(srv)
        rw = after["rewrap"]
        print("  round %d: rotated to key %d, SIGKILL at pass %d, %d/%d records (%d moved); "
              "restart %.2fs; after restart: active=%s pass %d, %d/%d (%d moved)"
              % (rnd, target, seen["pass"], seen["done"], seen["total"], seen["rewrapped"],
                 time.monotonic() - t_kill, rw["active"], rw["pass"], rw["done"], rw["total"],
                 rw["rewrapped"]))
        sys.stdout.flush()
        self.assertEqual(after["primary_key_id"], target, "primary key lost by the kill: %r" % after)
        self.assertEqual(rw["target_key_id"], target, after)
        # Resumed, not restarted: the persisted progress is not behind what was seen.
        self.assertGreaterEqual(rw["rewrapped"], seen["rewrapped"], after)
        if rw["active"]:
            self.assertGreaterEqual((rw["pass"], rw["done"]), (seen["pass"], seen["done"]),
                                    "the rewrap restarted instead of resuming: %r" % after)
        else:
            self.assertTrue(rw["finished"], after)
        return target

    def test_rotate_twice_in_a_row(self):
        with RekeyServer(name="storage-rotation-2x") as srv:
            model = Model()
            seed(srv, model, 1500)
            self.assertEqual(model.errors, [])
            k0 = key_status(srv)["primary_key_id"]
            r = srv.request("POST", "/v1/sys/rotate")
            self.assertEqual(r.status, 204, r)
            ks = key_status(srv)
            k1 = ks["primary_key_id"]
            rw = ks["rewrap"]
            print("  rotated %d -> %d; second rotation with the rewrap at active=%s pass %d, "
                  "%d/%d" % (k0, k1, rw["active"], rw["pass"], rw["done"], rw["total"]))
            # The second rotation through the CLI, while the first rewrap is (normally) running.
            env = dict(os.environ, REKEY_ADDR=srv.url, REKEY_TOKEN=srv.token)
            for k in ("VAULT_ADDR", "VAULT_TOKEN"):
                env.pop(k, None)
            p = subprocess.run([srv.binary, "operator", "rotate", "--wait"], env=env,
                               capture_output=True, text=True, timeout=REWRAP_TIMEOUT_S + 30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("Rotated the storage key", p.stdout)
            ks = wait_rewrap_done(self, srv, key_status(srv)["primary_key_id"])
            k2 = ks["primary_key_id"]
            self.assertEqual(len({k0, k1, k2}), 3, ks)
            self.assertEqual(len(ks["keys"]), 3, ks)
            p = subprocess.run([srv.binary, "status"], env=env, capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("complete", p.stdout)
            self.assertIn(str(k2), p.stdout)
            print("  rotated %d -> %d -> %d; %d records moved" % (k0, k1, k2,
                                                                 ks["rewrap"]["rewrapped"]))
            verify(self, srv, model, sample_all_versions=50)
            srv.restart()
            verify(self, srv, model, sample_all_versions=50)
            model.tracker.check(srv, label="rotate twice")


if __name__ == "__main__":
    harness.main()
