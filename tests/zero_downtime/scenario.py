"""One combination end to end: a rekey dev server, the target's accounts, N client workers and R
rotations, then the leak check. run_scenario() returns a ScenarioResult; it raises only when the
scenario could not be set up (a server that does not start, a first rotation that fails).
"""

import json
import os
import statistics
import sys
import threading
import time

import leaks
import services
from credentials import CredentialCache, EventWatcher, SeenValues
from driver import RotationDriver
from harness import RekeyServer, quote_path
from workers import join_workers, start_workers

SECRET_PATH = "zd/app"
ADMIN_PATH = "zd/admin"
APP_POLICY = "zd-app"
WARMUP_S = 1.0
TAIL_S = 1.0


class Options:
    def __init__(self, rotations=100, workers=32, grace="3s", gap_s=(1.0, 2.0), think_s=0.05,
                 verbose=True):
        self.rotations = rotations
        self.workers = workers
        self.grace = grace
        self.gap_s = gap_s
        self.think_s = think_s
        self.verbose = verbose


class Load:
    """What happened while the driver rotated under load."""

    def __init__(self, results, stats, by_kind, watcher_errors, secret_reads, run_bodies):
        self.results = results                # driver.RunResult per counted rotation
        self.stats = stats                    # workers.WorkerStats of all workers
        self.by_kind = by_kind                # {"per-request"|"pooled": WorkerStats}
        self.watcher_errors = watcher_errors  # failed event polls
        self.secret_reads = secret_reads      # KV reads by all credential caches
        self.run_bodies = run_bodies          # every rotation API answer (leak check)


class ScenarioResult:
    def __init__(self, target, load, seconds, leak, loadavg):
        self.name = target.name
        self.zero_downtime = target.zero_downtime
        self.note = target.note
        self.results = load.results
        self.stats = load.stats
        self.by_kind = load.by_kind
        self.watcher_errors = load.watcher_errors
        self.secret_reads = load.secret_reads
        self.seconds = seconds
        self.leak = leak
        self.loadavg = loadavg   # the machine's 1-minute load average at start and end

    @property
    def rotations_ok(self):
        return sum(1 for r in self.results if r.outcome == "succeeded")

    @property
    def rotations_failed(self):
        return len(self.results) - self.rotations_ok

    @property
    def retried(self):
        return sum(1 for r in self.results if r.attempts > 1)

    def rotations_with_failures(self):
        """How many rotations had a failed request between their start and 1 s after the new
        value became current."""
        n = 0
        for r in self.results:
            end = r.started + (r.promoted_after_s or 0.0) + 1.0
            if any(r.started <= t <= end for t in self.stats.failure_times):
                n += 1
        return n

    def window_ms(self):
        """Median and max of set->finish over the rotations, in ms (None if unknown)."""
        w = [r.window_s * 1000 for r in self.results if r.window_s is not None]
        return (statistics.median(w), max(w)) if w else (None, None)

    def promote_ms(self):
        """Median and max of run created -> new value current, in ms (None if unknown)."""
        p = [r.promote_s * 1000 for r in self.results if r.promote_s is not None]
        return (statistics.median(p), max(p)) if p else (None, None)

    def run_s(self):
        """Median length of a run (rotate request -> outcome, including the grace), in s."""
        d = [r.ended - r.started for r in self.results]
        return statistics.median(d) if d else None

    def step_ms(self):
        """{step: median duration in ms} of create, set, test and finish."""
        out = {}
        for step in ("create", "set", "test", "finish"):
            d = [r.step_s[step] * 1000 for r in self.results if step in r.step_s]
            if d:
                out[step] = statistics.median(d)
        return out

    def worker_spread(self):
        """(min, median, max) requests per worker: how evenly the threads got to run."""
        p = sorted(self.stats.per_worker)
        return (p[0], statistics.median(p), p[-1]) if p else (0, 0, 0)

    def passed(self):
        bad_requests = self.zero_downtime and self.stats.failed > 0
        return not bad_requests and self.rotations_failed == 0 and self.leak.ok

    def to_json(self):
        med, worst = self.window_ms()
        return {"combo": self.name, "zero_downtime": self.zero_downtime,
                "rotations_ok": self.rotations_ok, "rotations_failed": self.rotations_failed,
                "rotations_retried": self.retried, "requests": self.stats.requests,
                "failed_requests": self.stats.failed, "auth_failures": self.stats.auth_failures,
                "other_errors": self.stats.other_errors, "connects": self.stats.connects,
                "failed_by_kind": {k: s.failed for k, s in self.by_kind.items()},
                "requests_by_kind": {k: s.requests for k, s in self.by_kind.items()},
                "rotations_with_failures": self.rotations_with_failures(),
                "set_to_current_ms_median": med, "set_to_current_ms_max": worst,
                "promoted_ms_median_max": self.promote_ms(), "run_s_median": self.run_s(),
                "step_ms_median": self.step_ms(),
                "requests_per_worker_min_median_max": self.worker_spread(),
                "seconds": round(self.seconds, 1), "loadavg_start_end": self.loadavg,
                "secret_reads": self.secret_reads,
                "watcher_errors": self.watcher_errors, "leak_ok": self.leak.ok,
                "error_samples": self.stats.samples}


def _log(opts, text):
    if opts.verbose:
        sys.stderr.write("zero-downtime: %s\n" % text)
        sys.stderr.flush()


def _ok(r, what):
    if r.status not in (200, 204):
        raise RuntimeError("%s: HTTP %d %s" % (what, r.status, r.body[:300]))
    return r


def _app_token(server):
    """A token that may only read the app's secret and the rotation events, like an app's."""
    policy = {"path": {"secret/data/" + SECRET_PATH: {"capabilities": ["read"]},
                       "rotation/events": {"capabilities": ["read"]}}}
    _ok(server.request("PUT", "/v1/sys/policies/acl/" + APP_POLICY,
                       {"policy": json.dumps(policy)}), "writing the app policy")
    r = _ok(server.request("POST", "/v1/auth/token/create",
                           {"policies": [APP_POLICY], "ttl": "4h"}), "creating the app token")
    return r.json["auth"]["client_token"]


def _configure(server, target, opts):
    """Writes the admin credential, the seed value and the rotation config."""
    admin = target.admin_credential()
    if admin is not None:
        _ok(server.request("POST", "/v1/secret/data/" + ADMIN_PATH, {"data": admin}),
            "writing the admin credential")
    seed = target.seed_value()
    if seed is not None:
        _ok(server.request("POST", "/v1/secret/data/" + SECRET_PATH, {"data": seed}),
            "writing the seed value")
    config = {"rotator": target.rotator, "params": target.rotation_params(ADMIN_PATH),
              "grace": opts.grace, "generator": {"type": "password", "length": 32},
              "retry": {"max_attempts": 3, "backoff": "1s", "max_backoff": "2s"}}
    _ok(server.request("PUT", "/v1/rotation/config/" + SECRET_PATH, config),
        "writing the rotation config")


def _all_versions(server):
    """Every readable password the secret ever had (versions not destroyed)."""
    r = _ok(server.request("GET", "/v1/secret/metadata/" + quote_path(SECRET_PATH)),
            "reading the secret's metadata")
    out = []
    for version in sorted(int(v) for v in r.json["data"]["versions"]):
        rv = server.request("GET", "/v1/secret/data/%s?version=%d"
                            % (quote_path(SECRET_PATH), version))
        data = ((rv.json or {}).get("data") or {}).get("data") if rv.status == 200 else None
        if isinstance(data, dict) and isinstance(data.get("password"), str):
            out.append(data["password"])
    return out


def _secrets_to_track(target, server, seen, app_token):
    values = set(seen.snapshot()) | set(_all_versions(server)) | {app_token}
    admin = target.admin_credential()
    if admin is not None:
        values.add(admin["password"])
    return sorted(values)


def _progress(opts, name):
    """A driver callback logging every 10th rotation and every one that did not succeed."""
    def log(i, result):
        if i % 10 == 0 or result.outcome != "succeeded":
            _log(opts, "%s: %d/%d rotations (last: %s%s)"
                 % (name, i, opts.rotations, result.outcome,
                    ", " + result.error[:200] if result.error else ""))
    return log


def _rotate_under_load(server, target, opts, token, seen):
    """A first rotation (the app's first credential, not counted), then workers and the event
    watcher running while the driver rotates opts.rotations times. Returns a Load."""
    driver = RotationDriver(server, SECRET_PATH, gap_s=opts.gap_s)
    first = driver.rotate_once()  # the app's first credential; not counted
    if first.outcome != "succeeded":
        raise RuntimeError("the first rotation of %s ended %s: %s"
                           % (target.name, first.outcome, first.error))
    watcher = EventWatcher(server.addr, token, SECRET_PATH).start()
    stop = threading.Event()
    caches = []

    def make_cache():
        caches.append(CredentialCache(server.addr, token, SECRET_PATH, watcher, seen))
        return caches[-1]

    workers = start_workers(opts.workers, target, make_cache, stop, opts.think_s)
    try:
        time.sleep(WARMUP_S)
        results = driver.run(opts.rotations, on_result=_progress(opts, target.name))
        time.sleep(TAIL_S)
    finally:
        stop.set()
        stats, by_kind = join_workers(workers)
        watcher.stop()
    return Load(results, stats, by_kind, watcher.errors, sum(c.reads for c in caches),
                driver.bodies)


def run_scenario(target_class, opts, shared):
    """Runs one combination (see the module doc) on the servers of `shared` (a
    services.SharedServices). The target is cleaned up in every case."""
    started = time.monotonic()
    load_start = os.getloadavg()[0]
    _log(opts, "%s: starting servers" % target_class.name)
    target = target_class(shared.ensure(target_class.services))
    server = RekeyServer(name="zd-" + target.name.replace("/", "-"))
    try:
        target.prepare()
        with server:
            token = _app_token(server)
            _configure(server, target, opts)
            seen = SeenValues()
            load = _rotate_under_load(server, target, opts, token, seen)
            values = _secrets_to_track(target, server, seen, token)
            report = leaks.check(server, values, load.run_bodies, services.log_files(target.env))
            _log(opts, report.line())
    finally:
        target.cleanup()
    return ScenarioResult(target, load, time.monotonic() - started, report,
                          (load_start, os.getloadavg()[0]))
