"""How the application gets its database credential from rekey.

EventWatcher    one thread per application process that long-polls GET /v1/rotation/events and
                bumps `generation` whenever a secret it watches was promoted (a new version is
                current).
CredentialCache one per worker (an application instance): reads the secret from the KV API
                (GET /v1/secret/data/<path>) once, keeps it, and reads it again when the watcher's
                generation moved or when the worker asks (after an authentication failure).
SeenValues      every password any cache ever read, for the leak check.

All three are thread-safe.
"""

import threading
import time

from harness import http_request, quote_path

POLL_WAIT_S = 2          # long-poll wait; also bounds how long stop() takes
HTTP_TIMEOUT_S = 10.0


class SecretReadError(RuntimeError):
    """Reading the secret from rekey failed (status and path only, never the body)."""


class SeenValues:
    def __init__(self):
        self._lock = threading.Lock()
        self._values = set()

    def add(self, value):
        with self._lock:
            self._values.add(value)

    def snapshot(self):
        with self._lock:
            return sorted(self._values)

    def redact(self, text):
        """text with every value seen so far replaced by [redacted]."""
        for v in self.snapshot():
            text = text.replace(v, "[redacted]")
        return text


def read_secret(addr, token, path):
    """The current value (a dict) of KV secret `path`. Raises SecretReadError."""
    try:
        r = http_request(addr, "GET", "/v1/secret/data/" + quote_path(path), token=token,
                         timeout=HTTP_TIMEOUT_S)
    except OSError as e:
        raise SecretReadError("reading %s: %s" % (path, e.__class__.__name__)) from None
    if r.status != 200 or not isinstance(r.json, dict):
        raise SecretReadError("reading %s: HTTP %d" % (path, r.status))
    data = (r.json.get("data") or {}).get("data")
    if not isinstance(data, dict) or not isinstance(data.get("password"), str):
        raise SecretReadError("reading %s: the value has no password field" % path)
    return data


class EventWatcher:
    """Long-polls rotation events; `generation` counts promotions of the watched path."""

    def __init__(self, addr, token, path):
        self.addr = addr
        self.token = token
        self.path = path
        self.generation = 0
        self.errors = 0
        self._after = self._newest_seq()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="event-watcher", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(POLL_WAIT_S + HTTP_TIMEOUT_S)

    def _newest_seq(self):
        r = http_request(self.addr, "GET", "/v1/rotation/events?after=0&limit=10000",
                         token=self.token, timeout=HTTP_TIMEOUT_S)
        if r.status != 200:
            raise RuntimeError("GET /v1/rotation/events: HTTP %d" % r.status)
        return int(r.json["data"]["last_seq"])

    def _loop(self):
        while not self._stop.is_set():
            try:
                r = http_request(self.addr, "GET", "/v1/rotation/events?after=%d&wait=%ds"
                                 % (self._after, POLL_WAIT_S), token=self.token,
                                 timeout=POLL_WAIT_S + HTTP_TIMEOUT_S)
            except OSError:
                self.errors += 1
                time.sleep(0.2)
                continue
            if r.status != 200:
                self.errors += 1
                time.sleep(0.2)
                continue
            data = r.json["data"]
            for event in data.get("events") or []:
                if event.get("type") == "rotation.promoted" and event.get("path") == self.path:
                    self.generation += 1
            self._after = int(data["last_seq"])


class CredentialCache:
    """One application instance's cached credential (not shared between workers)."""

    def __init__(self, addr, token, path, watcher, seen):
        self._addr = addr
        self._token = token
        self._path = path
        self._watcher = watcher
        self._seen = seen
        self._value = None
        self._generation = -1
        self.reads = 0

    def get(self):
        """The cached value, re-read first if a promotion happened since the last read."""
        if self._value is None or self._generation != self._watcher.generation:
            self.refresh()
        return self._value

    def refresh(self):
        """Reads the secret again now (after an authentication failure). Raises SecretReadError."""
        generation = self._watcher.generation  # before the read: a later promotion re-reads
        value = read_secret(self._addr, self._token, self._path)
        self.reads += 1
        self._seen.add(value["password"])
        self._value = value
        self._generation = generation
        return value

    def redact(self, text):
        """text without any credential value this process has seen."""
        return self._seen.redact(text)
