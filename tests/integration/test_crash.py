#!/usr/bin/python3
"""Crash durability: acknowledged KV writes survive SIGKILL; unacknowledged ones are
all-or-nothing.

8 client threads write, each to its own unique path with a unique value, until 1,000
writes were acknowledged (HTTP 200 with version 1).  Meanwhile a killer SIGKILLs the
server 4-6 times at random points of the run and restarts it on the same data dir.
A write that fails with "connection refused" was never sent and is retried as is; any
other failure (reset, timeout, non-200) makes it "unacknowledged": it is recorded and the
thread moves on to a fresh path.  Finally the server is SIGKILLed and restarted once more
and every write is checked:
  * acknowledged      -> 200, data exactly as written, metadata current_version 1
  * unacknowledged    -> 404 (data and metadata) or exactly as written, never corrupt
  * LIST of every thread's folder == the set of paths that read back.

Seed: REKEY_CRASH_SEED (default 20240611), printed at start.  Bounded: the write phase
fails after 180 s (REKEY_CRASH_DEADLINE_S).

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_crash.py -v
"""

import collections
import json
import os
import random
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker  # noqa: E402

TARGET_ACKED = int(os.environ.get("REKEY_CRASH_WRITES", "1000"))
THREADS = 8
SEED = int(os.environ.get("REKEY_CRASH_SEED", "20240611"))
DEADLINE_S = float(os.environ.get("REKEY_CRASH_DEADLINE_S", "180"))
REQ_TIMEOUT_S = 10.0


class Outcome:
    ACKED, UNACKED = "acked", "unacked"


class CrashRun:
    def __init__(self, srv, secrets, seed):
        self.srv = srv
        self.secrets = secrets
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.acked = {}      # path -> value
        self.unacked = {}    # path -> value
        self.stats = collections.Counter()
        self.stop = threading.Event()
        self.errors = []     # fatal protocol errors seen by workers
        self.planned_kill = threading.Event()  # set while the killer is restarting the server
        self.kill_points = sorted(self.rng.sample(range(TARGET_ACKED // 20, TARGET_ACKED * 19 // 20),
                                                  self.rng.randint(4, 6)))
        self.thread_seeds = [self.rng.getrandbits(64) for _ in range(THREADS)]
        self.kills = 0

    def n_acked(self):
        with self.lock:
            return len(self.acked)

    # -- one write -------------------------------------------------------------------
    def write_once(self, path, value):
        """Returns 'acked', 'refused' (never sent) or 'unacked:<why>'."""
        url = self.srv.url  # re-read each time: the port changes across restarts
        if url is None:
            return "refused"
        body = json.dumps({"data": {"v": value, "pad": value * 4, "n": path}}).encode()
        req = urllib.request.Request(url + "/v1/secret/data/" + path, data=body, method="POST",
                                     headers={"X-Vault-Token": self.srv.token,
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=REQ_TIMEOUT_S) as r:
                raw = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            return "unacked:http-%d" % e.code
        except urllib.error.URLError as e:
            if isinstance(e.reason, ConnectionRefusedError):
                return "refused"
            return "unacked:%s" % type(e.reason).__name__
        except (ConnectionError, OSError) as e:  # reset / broken pipe / timeout mid-response
            return "unacked:%s" % type(e).__name__
        except Exception as e:  # http.client.RemoteDisconnected, IncompleteRead, ...
            return "unacked:%s" % type(e).__name__
        if status != 200:
            return "unacked:http-%d" % status
        try:
            doc = json.loads(raw)
            version = doc["data"]["version"]
        except (ValueError, KeyError, TypeError):
            return "unacked:bad-200-body"
        if version != 1:
            with self.lock:
                self.errors.append("write to fresh path %s acknowledged as version %r" % (path, version))
        return Outcome.ACKED

    def worker(self, tid):
        rng = random.Random(self.thread_seeds[tid])
        seq = 0
        while not self.stop.is_set():
            seq += 1
            path = "crash/t%d/w%05d" % (tid, seq)
            value = self.secrets.track("sv-%032x" % rng.getrandbits(128))
            while not self.stop.is_set():
                res = self.write_once(path, value)
                with self.lock:
                    self.stats[res] += 1
                if res == "refused":
                    time.sleep(0.02)  # server down: retry the very same write
                    continue
                with self.lock:
                    if res == Outcome.ACKED:
                        self.acked[path] = value  # every ack counts, even past the target
                        if len(self.acked) >= TARGET_ACKED:
                            self.stop.set()
                    else:
                        self.unacked[path] = value
                break

    def killer(self):
        for point in self.kill_points:
            while not self.stop.is_set() and self.n_acked() < point:
                time.sleep(0.005)
            if self.stop.is_set():
                return
            time.sleep(self.rng.uniform(0.0, 0.05))  # land somewhere inside in-flight writes
            self.planned_kill.set()
            try:
                t0 = time.monotonic()
                self.srv.kill9()
                self.kills += 1
                self.srv.start()
                print("  kill #%d at %d acked writes; restart took %.2fs"
                      % (self.kills, self.n_acked(), time.monotonic() - t0))
                sys.stdout.flush()
            except Exception as e:
                with self.lock:
                    self.errors.append("restart after kill #%d failed: %s" % (self.kills, e))
                self.stop.set()
                return
            finally:
                self.planned_kill.clear()

    def monitor(self):
        """Fail fast if the server dies on its own (not killed by us)."""
        while not self.stop.is_set():
            time.sleep(0.05)
            if self.planned_kill.is_set():
                continue
            proc = self.srv.proc
            if proc is None or proc.poll() is None:
                continue
            # Dead: an unplanned exit only if the killer is not busy and did not swap the process.
            if not self.planned_kill.is_set() and proc is self.srv.proc:
                with self.lock:
                    self.errors.append("server exited on its own with code %s\n%s"
                                       % (proc.returncode, self.srv.log_tail()))
                self.stop.set()
                return


class CrashDurability(unittest.TestCase):

    def test_acknowledged_writes_survive_sigkill(self):
        print("seed=%d threads=%d target_acked=%d deadline=%.0fs" % (SEED, THREADS, TARGET_ACKED, DEADLINE_S))
        secrets = SecretTracker()
        with RekeyServer(name="crash") as srv:
            run = CrashRun(srv, secrets, SEED)
            print("kill points (acked writes):", run.kill_points)
            threads = [threading.Thread(target=run.worker, args=(i,), daemon=True) for i in range(THREADS)]
            threads.append(threading.Thread(target=run.killer, daemon=True))
            threads.append(threading.Thread(target=run.monitor, daemon=True))
            t0 = time.monotonic()
            for t in threads:
                t.start()
            timed_out = not run.stop.wait(DEADLINE_S)
            run.stop.set()
            for t in threads:
                t.join(REQ_TIMEOUT_S + 30)
            elapsed = time.monotonic() - t0
            print("write phase: %.1fs, %d acked, %d unacked, %d kills, attempts %s"
                  % (elapsed, len(run.acked), len(run.unacked), run.kills, dict(run.stats)))
            self.assertEqual(run.errors, [], "fatal errors during the write phase")
            self.assertFalse(timed_out, "only %d/%d writes acknowledged within %.0fs"
                             % (len(run.acked), TARGET_ACKED, DEADLINE_S))
            self.assertGreaterEqual(len(run.acked), TARGET_ACKED)
            self.assertGreaterEqual(run.kills, 4, "the killer must have struck at least 4 times")

            # Final crash + restart, then verify everything.
            srv.kill9()
            t1 = time.monotonic()
            srv.start()
            print("final restart after SIGKILL took %.2fs" % (time.monotonic() - t1))
            self.verify(srv, run)
            # The store still accepts writes and versions continue correctly.
            some = sorted(run.acked)[0]
            r = srv.request("POST", "/v1/secret/data/" + some,
                            {"options": {"cas": 1}, "data": {"v": secrets.new()}})
            self.assertEqual((r.status, r.json and r.json["data"]["version"]), (200, 2), r)
            secrets.check(srv, label="test_crash")

    def verify(self, srv, run):
        t0 = time.monotonic()
        bad = []
        present_unacked = 0
        present = collections.defaultdict(set)
        items = [(p, v, True) for p, v in run.acked.items()] + \
                [(p, v, False) for p, v in run.unacked.items()]
        for path, value, acked in items:
            r = srv.request("GET", "/v1/secret/data/" + path, timeout=30)
            m = srv.request("GET", "/v1/secret/metadata/" + path, timeout=30)
            want = {"v": value, "pad": value * 4, "n": path}
            if r.status == 200:
                got = r.json and r.json.get("data", {}).get("data")
                if got != want:
                    bad.append("%s (%s): corrupt data %r" % (path, "acked" if acked else "unacked", r.body[:200]))
                    continue
                if r.json["data"]["metadata"]["version"] != 1:
                    bad.append("%s: version %r" % (path, r.json["data"]["metadata"]["version"]))
                if m.status != 200 or m.json["data"]["current_version"] != 1 \
                        or list(m.json["data"]["versions"]) != ["1"]:
                    bad.append("%s: inconsistent metadata %r" % (path, m))
                present[path.rsplit("/", 1)[0]].add(path.rsplit("/", 1)[1])
                if not acked:
                    present_unacked += 1
            elif r.status == 404 and not acked:
                if m.status != 404:
                    bad.append("%s: data 404 but metadata %r" % (path, m))
            else:
                bad.append("%s (%s): %r" % (path, "acked" if acked else "unacked", r))
        for tid in range(THREADS):
            folder = "crash/t%d" % tid
            r = srv.request("LIST", "/v1/secret/metadata/" + folder, timeout=30)
            listed = set(r.json["data"]["keys"]) if r.status == 200 else set()
            if listed != present[folder]:
                bad.append("LIST %s: %d listed vs %d readable (extra %s, missing %s)"
                           % (folder, len(listed), len(present[folder]),
                              sorted(listed - present[folder])[:5], sorted(present[folder] - listed)[:5]))
        print("verified %d acked + %d unacked writes in %.1fs: %d unacked present (all intact), "
              "%d unacked absent, %d problems"
              % (len(run.acked), len(run.unacked), time.monotonic() - t0, present_unacked,
                 len(run.unacked) - present_unacked, len(bad)))
        if bad:
            self.fail("%d durability/consistency problems, first 20:\n  %s" % (len(bad), "\n  ".join(bad[:20])))


if __name__ == "__main__":
    harness.main()
