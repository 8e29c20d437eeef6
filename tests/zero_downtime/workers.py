"""Client workers: application instances issuing trivial requests against the target.

Each worker is a thread with its own CredentialCache. A request is one `ping` (SELECT 1 / PING):

- PerRequestWorker opens a new connection for every request and closes it after;
- PooledWorker keeps one connection, and replaces it every RECONNECT_S seconds (random per
  connection) and whenever it broke.

A request that fails is retried once, as an application would; an authentication failure first
re-reads the credential from rekey. The request counts as failed only if the retry fails too.
Counters are per worker (no locking) and summed by WorkerStats.merge().
"""

import random
import threading
import time

from credentials import SecretReadError

RECONNECT_S = (2.0, 5.0)
SAMPLE_ERRORS = 5


class WorkerStats:
    """What one worker (or, merged, all workers) saw."""

    def __init__(self):
        self.requests = 0          # requests the application made
        self.failed = 0            # requests that failed after their one retry
        self.auth_failures = 0     # refused logins, counted at every attempt
        self.other_errors = 0      # other errors (network, timeouts, secret reads), every attempt
        self.connects = 0          # connections opened
        self.failure_times = []    # time.monotonic() of each failed request
        self.samples = []          # a few (kind, error class, redacted message)
        self.per_worker = []       # requests of each merged worker (fairness)

    def merge(self, other):
        for name in ("requests", "failed", "auth_failures", "other_errors", "connects"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failure_times.extend(other.failure_times)
        self.per_worker.extend(other.per_worker or [other.requests])
        for s in other.samples:
            if len(self.samples) < SAMPLE_ERRORS and s not in self.samples:
                self.samples.append(s)
        return self


class _Worker(threading.Thread):
    kind = ""

    def __init__(self, index, target, cache, stop, think_s):
        super().__init__(name="%s-%d" % (self.kind, index), daemon=True)
        self.target = target
        self.cache = cache
        self.stop_event = stop
        self.think_s = think_s
        self.stats = WorkerStats()
        self._rng = random.Random(index)

    def run(self):
        try:
            while not self.stop_event.is_set():
                self._request()
                if self.think_s:
                    self.stop_event.wait(self.think_s * self._rng.uniform(0.5, 1.5))
        finally:
            self._shutdown()

    def _request(self):
        """One application request with one retry; updates the counters."""
        self.stats.requests += 1
        for attempt in (1, 2):
            try:
                self._attempt()
                return
            except Exception as e:  # noqa: BLE001 - every failure is counted
                auth = self._note_error(e)
                if attempt == 2:
                    self.stats.failed += 1
                    self.stats.failure_times.append(time.monotonic())
                    return
                if auth:
                    try:
                        self.cache.refresh()
                    except SecretReadError as read_error:
                        self._note_error(read_error)

    def _note_error(self, e):
        """Counts an error; returns True when it was an authentication failure."""
        auth = self.target.is_auth_error(e)
        if auth:
            self.stats.auth_failures += 1
        else:
            self.stats.other_errors += 1
        if len(self.stats.samples) < SAMPLE_ERRORS:
            sample = (self.kind, "auth" if auth else "other", e.__class__.__name__,
                      self.cache.redact(str(e)).replace("\n", " ")[:200])
            if sample not in self.stats.samples:
                self.stats.samples.append(sample)
        return auth

    def _connect(self):
        conn = self.target.connect(self.cache.get())
        self.stats.connects += 1
        return conn

    def _attempt(self):
        raise NotImplementedError

    def _shutdown(self):
        pass


class PerRequestWorker(_Worker):
    kind = "per-request"

    def _attempt(self):
        conn = self._connect()
        try:
            self.target.ping(conn)
        finally:
            self.target.close(conn)


class PooledWorker(_Worker):
    kind = "pooled"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._conn = None
        self._replace_at = 0.0

    def _attempt(self):
        now = time.monotonic()
        if self._conn is not None and now >= self._replace_at:
            self._drop()
        if self._conn is None:
            self._conn = self._connect()
            self._replace_at = now + self._rng.uniform(*RECONNECT_S)
        try:
            self.target.ping(self._conn)
        except Exception:
            self._drop()  # a broken connection is replaced at the retry
            raise

    def _drop(self):
        conn, self._conn = self._conn, None
        if conn is not None:
            self.target.close(conn)

    def _shutdown(self):
        self._drop()


def start_workers(n, target, make_cache, stop, think_s):
    """Starts n workers, alternating per-request and pooled; returns them."""
    workers = []
    for i in range(n):
        cls = PerRequestWorker if i % 2 == 0 else PooledWorker
        w = cls(i, target, make_cache(), stop, think_s)
        w.start()
        workers.append(w)
    return workers


def join_workers(workers, timeout_s=30):
    """Waits for the workers (after stop was set). Returns (all, {kind: WorkerStats}) merged;
    raises RuntimeError if a worker is still running after timeout_s."""
    total = WorkerStats()
    by_kind = {}
    deadline = time.monotonic() + timeout_s
    for w in workers:
        w.join(max(0.1, deadline - time.monotonic()))
        if w.is_alive():
            raise RuntimeError("worker %s did not stop within %ds" % (w.name, timeout_s))
        total.merge(w.stats)
        by_kind.setdefault(w.kind, WorkerStats()).merge(w.stats)
    return total, by_kind
