"""Shared harness for rekey integration tests (stdlib only; run with /usr/bin/python3).

RekeyServer   starts `rekey server --dev` (or `rekey server --config FILE`) on a free
              loopback port in a private temp dir and waits until it answers
              GET /v1/sys/health with 200.
SecretTracker records every secret value a test writes and, at teardown, asserts
              that none of them appears in the server's log output.

The rekey binary comes from the environment variable REKEY_BIN (CMake passes
$<TARGET_FILE:rekey>).  Set REKEY_KEEP_TMP=1 to keep temp dirs (data + logs) for
post-mortem; they are always kept and printed when a server fails to start.
"""

import http.client
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

DEV_ROOT_TOKEN = "rk-it-root-0123456789abcdef"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0


def rekey_bin():
    """Path of the rekey binary under test (REKEY_BIN), or exit with a clear message."""
    path = os.environ.get("REKEY_BIN", "")
    if not path:
        sys.stderr.write("REKEY_BIN is not set: export REKEY_BIN=/path/to/rekey\n")
        sys.exit(2)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        sys.stderr.write("REKEY_BIN=%r is not an executable file\n" % path)
        sys.exit(2)
    return path


def secret_value(prefix="sv"):
    """A distinctive random secret value: easy to grep for, never appears by chance."""
    return "%s-%s" % (prefix, uuid.uuid4().hex)


def keep_tmp():
    return os.environ.get("REKEY_KEEP_TMP", "") not in ("", "0")


_ALL_SERVERS = []
_DEFER_CLEANUP = False


def main():
    """unittest.main() for the integration tests: on any failure, print the tail of every
    server log and keep its temp dir; otherwise remove the temp dirs.  Exit 0/1."""
    global _DEFER_CLEANUP
    import unittest
    _DEFER_CLEANUP = True
    prog = unittest.main(exit=False, verbosity=2)
    ok = prog.result.wasSuccessful()
    for s in _ALL_SERVERS:
        if s.proc is not None:
            s.kill9()
        if not ok and os.path.isdir(s.tmp):
            s._failed = True
            sys.stderr.write("\n%s" % s.log_tail(60))
        s._remove_tmp()
    sys.exit(0 if ok else 1)


class ServerStartError(AssertionError):
    pass


class Response:
    """A raw HTTP response: status, headers (lower-cased names), body bytes, parsed JSON."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self._json_done = False
        self._json = None

    @property
    def json(self):
        if not self._json_done:
            self._json_done = True
            try:
                self._json = json.loads(self.body.decode("utf-8")) if self.body else None
            except (ValueError, UnicodeDecodeError):
                self._json = None
        return self._json

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        body = self.body[:300]
        return "<HTTP %d %s ct=%r body=%r>" % (self.status, self.reason,
                                              self.header("content-type"), body)


# Error bodies the tests received (the last few MiB), checked for leaked values by
# SecretTracker.check: an error message must never echo a secret.
_ERROR_BODIES = []
_ERROR_BODY_BYTES = [0]


def _remember_error_body(data):
    _ERROR_BODIES.append(data)
    _ERROR_BODY_BYTES[0] += len(data)
    while _ERROR_BODY_BYTES[0] > 8 << 20 and _ERROR_BODIES:
        _ERROR_BODY_BYTES[0] -= len(_ERROR_BODIES.pop(0))


def http_request(addr, method, path, body=None, token=None, headers=None, timeout=10.0):
    """Send one request with http.client exactly as given (no path normalisation).

    addr is "host:port"; body may be bytes, str, or a JSON-serialisable object.
    Returns a Response.  Connection errors propagate (OSError).
    """
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        hdrs = {}
        if token is not None:
            hdrs["X-Vault-Token"] = token
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            hdrs["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        if headers:
            hdrs.update(headers)
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status >= 400:
            _remember_error_body(data)
        return Response(resp.status, resp.reason,
                        {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


class RekeyServer:
    """A rekey server process in its own temp dir.

    Dev mode (default):
        rekey server --dev --listen 127.0.0.1:0 --data-dir TMP/data
                     --dev-root-token TOKEN --addr-file TMP/addr
    Config mode (config=PATH, addr_file=PATH, token=the token from operator init):
        rekey server --config PATH

    Use as a context manager or call start()/stop().  restart() keeps the data dir
    (the port changes: always read .addr/.url after a restart).
    """

    def __init__(self, binary=None, token=DEV_ROOT_TOKEN, data_dir=None, config=None,
                 addr_file=None, extra_args=(), name="rekey", start_timeout=START_TIMEOUT_S,
                 audit=True, env=None):
        self.binary = binary or rekey_bin()
        self.token = token
        self.name = name
        self.start_timeout = start_timeout
        self.tmp = tempfile.mkdtemp(prefix="rekey-it-%s-" % name)
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.config = config
        self.addr_file = addr_file or os.path.join(self.tmp, "addr")
        self.log_path = os.path.join(self.tmp, "server.stderr.log")
        self.stdout_path = os.path.join(self.tmp, "server.stdout.log")
        self.extra_args = list(extra_args)
        # Every dev server records to an audit file the leak check reads, and logs at debug
        # level (REKEY_IT_LOG_LEVEL overrides), so that a value leaking into either is caught.
        self.audit = audit and not config
        self.audit_path = os.path.join(self.tmp, "audit.log")
        self.log_level = os.environ.get("REKEY_IT_LOG_LEVEL", "debug")
        self.env = env
        self.proc = None
        self.addr = None
        self.starts = 0
        self._failed = False
        _ALL_SERVERS.append(self)

    # -- lifecycle -------------------------------------------------------------
    def command(self):
        if self.config:
            return [self.binary, "server", "--config", self.config] + self.extra_args
        return [self.binary, "server", "--dev", "--listen", "127.0.0.1:0",
                "--data-dir", self.data_dir, "--dev-root-token", self.token,
                "--addr-file", self.addr_file, "--log-level", self.log_level] + self.extra_args

    def start(self):
        assert self.proc is None, "server already running"
        self.addr = None
        if os.path.exists(self.addr_file):
            os.unlink(self.addr_file)
        self.starts += 1
        with open(self.log_path, "ab") as log, open(self.stdout_path, "ab") as out:
            shown = " ".join(self.command())
            if self.token:
                shown = shown.replace(self.token, "<root token>")  # the leak check reads this log
            banner = "\n=== harness: start #%d: %s ===\n" % (self.starts, shown)
            log.write(banner.encode())
            log.flush()
            env = None
            if self.env is not None:
                env = dict(os.environ)
                env.update(self.env)
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=log, close_fds=True, env=env)
        try:
            self._wait_ready()
            if self.audit and self.starts == 1:
                r = self.request("PUT", "/v1/sys/audit/harness",
                                 {"type": "file", "options": {"file_path": self.audit_path,
                                                              "fsync": "never"}})
                if r.status != 204:
                    raise ServerStartError("enabling the harness audit device: %r" % r)
        except Exception:
            self._failed = True
            self.kill9()
            raise
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        addr = None
        last = "no addr file yet"
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise ServerStartError("rekey server exited with code %d during startup\n%s"
                                       % (rc, self.log_tail()))
            if addr is None:
                addr = self._read_addr_file()
            if addr is not None:
                try:
                    r = http_request(addr, "GET", "/v1/sys/health", timeout=2.0)
                    if r.status == 200:
                        self.addr = addr
                        return
                    last = "health returned %r" % r
                except OSError as e:
                    last = "health: %s" % e
            time.sleep(0.05)
        raise ServerStartError("rekey server not ready within %.0fs (%s; addr file %s)\n%s"
                               % (self.start_timeout, last, self.addr_file, self.log_tail()))

    def _read_addr_file(self):
        try:
            with open(self.addr_file) as f:
                text = f.read().strip()
        except OSError:
            return None
        if text.startswith("http://"):
            text = text[len("http://"):]
        host, sep, port = text.rpartition(":")
        if not sep or not port.isdigit() or int(port) == 0 or not host:
            return None  # not written completely yet
        return text

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM and wait; returns the exit code (None if it was not running).
        Escalates to SIGKILL (and raises) if it does not stop within `timeout`."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise AssertionError("rekey server did not stop within %.0fs of SIGTERM" % timeout)
        return proc.returncode

    def kill9(self):
        """SIGKILL (simulated crash) and reap."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def restart(self, graceful=True):
        if graceful:
            self.stop()
        else:
            self.kill9()
        self.addr = None
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        if self.proc is not None:
            self.kill9()
        if _DEFER_CLEANUP:
            return  # main() decides once all tests have run
        self._remove_tmp()

    def _remove_tmp(self):
        if not os.path.isdir(self.tmp):
            return
        if self._failed or keep_tmp():
            sys.stderr.write("harness: kept %s (logs: %s)\n" % (self.tmp, self.log_path))
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self.cleanup()
            raise

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._failed = True
            sys.stderr.write(self.log_tail())
        try:
            self.stop()
        finally:
            self.cleanup()
        return False

    # -- convenience -----------------------------------------------------------
    @property
    def url(self):
        return "http://%s" % self.addr if self.addr else None

    def request(self, method, path, body=None, token="__default__", headers=None, timeout=10.0):
        """Raw request to this server; token defaults to the root token (None = no header)."""
        if token == "__default__":
            token = self.token
        return http_request(self.addr, method, path, body=body, token=token,
                            headers=headers, timeout=timeout)

    def read_audit(self):
        """Everything the harness audit device wrote (all rotated files) as bytes."""
        out = b""
        for name in sorted(os.listdir(self.tmp)) if os.path.isdir(self.tmp) else []:
            if name.startswith("audit.log"):
                try:
                    with open(os.path.join(self.tmp, name), "rb") as f:
                        out += f.read()
                except OSError:
                    pass
        return out

    def read_stderr(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def read_logs(self):
        """All server output so far (stderr log + stdout) as bytes."""
        out = b""
        for p in (self.log_path, self.stdout_path):
            try:
                with open(p, "rb") as f:
                    out += f.read()
            except OSError:
                pass
        return out

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return "(no server log)\n"
        return "---- last %d lines of %s ----\n%s\n----\n" % (n, self.log_path, "\n".join(lines[-n:]))


class SecretTracker:
    """Records secret values written by a test; check(server) asserts none is in its logs.

    Values should come from new() (distinctive random strings) so that a hit in the
    log can only mean the server logged it.
    """

    def __init__(self):
        self.values = []

    def new(self, prefix="sv"):
        v = secret_value(prefix)
        self.values.append(v)
        return v

    def track(self, value):
        if not isinstance(value, str) or len(value) < 16:
            raise ValueError("track only distinctive values (>= 16 chars), got %r" % (value,))
        self.values.append(value)
        return value

    def check(self, *servers, label=""):
        """Asserts that no tracked value, nor any server's root token, appears in the servers'
        logs, their audit files or the error bodies the tests received: raw, base64
        (standard or URL-safe, padded or not), hex (either case) or URL-encoded."""
        places = [
            ("server log", b"".join(s.read_logs() for s in servers)),
            ("audit file", b"".join(s.read_audit() for s in servers)),
            ("error body", b"\n".join(_ERROR_BODIES)),
        ]
        # A dev server prints its root token once on stdout, on purpose (the banner); it must
        # appear nowhere else.
        token_places = [("server log", b"".join(s.read_stderr() for s in servers))] + places[1:]
        tokens = sorted({s.token for s in servers if s.token})
        values = list(self.values) + tokens
        leaked = []
        for v in values:
            for form in encodings(v):
                for where, data in (token_places if v in tokens else places):
                    if form in data:
                        leaked.append((v, where))
        print("secret-leak check%s: %d values (%d forms each) checked against %d bytes of logs, "
              "%d of audit and %d of error bodies, %d found"
              % (" (%s)" % label if label else "", len(values), len(encodings("x" * 16)),
                 len(places[0][1]), len(places[1][1]), len(places[2][1]), len(leaked)))
        sys.stdout.flush()
        if leaked:
            paths = ", ".join(s.log_path for s in servers)
            for s in servers:
                s._failed = True  # keep the evidence
            raise AssertionError("%d secret value(s) leaked (%s), e.g. %r"
                                 % (len(leaked), paths, leaked[:3]))


def encodings(value):
    """The forms a leaked value could take: raw, base64 (std/url, padded or not), hex, URL."""
    raw = value.encode("utf-8")
    forms = {raw, raw.hex().encode(), raw.hex().upper().encode(),
             urllib.parse.quote(value, safe="").encode(),
             urllib.parse.quote_plus(value).encode()}
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms.add(enc)
        forms.add(enc.rstrip(b"="))
    return sorted(forms)


def quote_path(p):
    return urllib.parse.quote(p, safe="/")
