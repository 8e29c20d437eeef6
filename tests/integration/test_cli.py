#!/usr/bin/python3
"""The rekey CLI against a harness server, plus the non-dev `operator init` + `--config` path.

Exit codes: 0 ok, 1 error from the server (including not found), 2 usage error.
Address/token: REKEY_ADDR/REKEY_TOKEN, falling back to VAULT_ADDR/VAULT_TOKEN, or
--address/--token (given after the subcommand, Vault style).

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_cli.py -v
"""

import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker, http_request, rekey_bin  # noqa: E402

BIN = None
SRV = None
SECRETS = SecretTracker()
CLI_TIMEOUT_S = 30


def setUpModule():
    global BIN, SRV
    BIN = rekey_bin()
    SRV = RekeyServer(name="cli").__enter__()


def tearDownModule():
    try:
        SECRETS.check(SRV, label="test_cli")
    finally:
        SRV.__exit__(None, None, None)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REKEY_", "VAULT_"))}
    env.update(extra)
    return env


def run(args, env=None, addr=None, token=None):
    """Run `rekey ARGS` with REKEY_ADDR/REKEY_TOKEN pointing at SRV unless env is given."""
    if env is None:
        env = clean_env(REKEY_ADDR=addr or SRV.url, REKEY_TOKEN=token or SRV.token)
    p = subprocess.run([BIN] + list(args), env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=CLI_TIMEOUT_S)
    return p


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def data_of(doc):
    """kv get --format json prints the server's body; tolerate a bare `data` for other commands."""
    return doc["data"] if isinstance(doc, dict) and isinstance(doc.get("data"), dict) else doc


def go_duration_seconds(s):
    total = 0.0
    for num, unit in re.findall(r"([0-9.]+)(h|ms|us|µs|ns|m|s)", s):
        total += float(num) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6,
                               "µs": 1e-6, "ns": 1e-9}[unit]
    return total


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CliBase(unittest.TestCase):

    def rk(self, *args, rc=0, **kw):
        p = run(args, **kw)
        self.assertEqual(p.returncode, rc, "rekey %s: exit %d (want %d)\nstdout: %s\nstderr: %s"
                         % (" ".join(args), p.returncode, rc, p.stdout[-1500:], p.stderr[-1500:]))
        return p

    def rk_json(self, *args, **kw):
        p = self.rk(*args, **kw)
        try:
            return json.loads(p.stdout)
        except ValueError:
            self.fail("rekey %s: stdout is not JSON: %r" % (" ".join(args), p.stdout[:500]))

    def put(self, path, **kv):
        args = ["%s=%s" % (k, SECRETS.track(v)) for k, v in kv.items()]
        return self.rk("kv", "put", path, *args)


class KvCommands(CliBase):

    def test_put_get_formats_and_field(self):
        p = uniq("cli/pg")
        v1, v2 = SECRETS.new(), SECRETS.new()
        self.rk("kv", "put", p, "user=alice", "password=" + v1)
        out = self.rk("kv", "get", p).stdout
        self.assertIn(v1, out, "table output shows the value")
        self.assertIn("alice", out)
        doc = self.rk_json("kv", "get", "--format", "json", p)
        self.assertEqual(doc["data"]["data"], {"user": "alice", "password": v1},
                         "--format json prints the server's response body")
        self.assertEqual(doc["data"]["metadata"]["version"], 1)
        self.assertEqual(self.rk("kv", "get", "--field", "password", p).stdout.rstrip("\n"), v1,
                         "--field prints just the value")
        self.rk("kv", "put", p, "password=" + v2)
        self.assertEqual(self.rk("kv", "get", "--field", "password", p).stdout.strip(), v2)
        self.assertEqual(self.rk("kv", "get", "--version", "1", "--field", "password", p).stdout.strip(), v1)
        doc = self.rk_json("kv", "get", "--version", "1", "--format", "json", p)
        self.assertEqual(doc["data"]["metadata"]["version"], 1)
        # put --format json parses too
        doc = self.rk_json("kv", "put", "--format", "json", p, "password=" + SECRETS.track(SECRETS.new()))
        self.assertEqual(data_of(doc)["version"], 3)
        # missing field -> error
        p_missing_field = run(["kv", "get", "--field", "nope", p])
        self.assertNotEqual(p_missing_field.returncode, 0, "--field of a missing key must fail")

    def test_value_with_equals_and_spaces(self):
        p = uniq("cli/eq")
        v = SECRETS.new()
        self.rk("kv", "put", p, "conn=host=db port=5432 pw=" + v)
        self.assertEqual(self.rk("kv", "get", "--field", "conn", p).stdout.rstrip("\n"),
                         "host=db port=5432 pw=" + v, "only the first '=' splits key from value")

    def test_get_missing_is_1(self):
        p = self.rk("kv", "get", uniq("cli/missing"), rc=1)
        self.assertTrue(p.stderr.strip(), "an error message on stderr")
        self.rk("kv", "get", "--format", "json", uniq("cli/missing"), rc=1)
        self.rk("kv", "metadata", "get", uniq("cli/missing"), rc=1)
        self.rk("kv", "list", uniq("cli/missing"), rc=1)
        self.rk("kv", "patch", uniq("cli/missing"), "a=" + SECRETS.new(), rc=1)

    def test_cas(self):
        p = uniq("cli/cas")
        self.rk("kv", "put", "--cas", "0", p, "k=" + SECRETS.track(SECRETS.new()))
        self.rk("kv", "put", "--cas", "0", p, "k=" + SECRETS.track(SECRETS.new()), rc=1)
        r = self.rk("kv", "put", "--cas", "5", p, "k=" + SECRETS.track(SECRETS.new()), rc=1)
        self.assertIn("check-and-set", r.stderr + r.stdout)
        self.rk("kv", "put", "--cas", "1", p, "k=" + SECRETS.track(SECRETS.new()))

    def test_patch(self):
        p = uniq("cli/patch")
        a, b, c = SECRETS.new(), SECRETS.new(), SECRETS.new()
        self.put(p, a=a, b=b)
        self.rk("kv", "patch", p, "b=" + SECRETS.track(c), "d=" + SECRETS.track(c))
        doc = self.rk_json("kv", "get", "--format", "json", p)
        self.assertEqual(doc["data"]["data"], {"a": a, "b": c, "d": c})
        self.assertEqual(doc["data"]["metadata"]["version"], 2)

    def test_list(self):
        base = uniq("cli/list")
        for sub in ("one", "two", "dir/three"):
            self.put("%s/%s" % (base, sub), k=SECRETS.new())
        out = self.rk("kv", "list", base).stdout
        for k in ("one", "two", "dir/"):
            self.assertIn(k, out)
        doc = self.rk_json("kv", "list", "--format", "json", base)
        keys = doc if isinstance(doc, list) else data_of(doc)["keys"]
        self.assertEqual(sorted(keys), ["dir/", "one", "two"])

    def test_metadata_get_put(self):
        p = uniq("cli/meta")
        self.put(p, k=SECRETS.new())
        self.put(p, k=SECRETS.new())
        self.rk("kv", "metadata", "get", p)
        m = data_of(self.rk_json("kv", "metadata", "get", "--format", "json", p))
        self.assertEqual(m["current_version"], 2)
        self.assertEqual(sorted(m["versions"]), ["1", "2"])
        self.rk("kv", "metadata", "put", "--max-versions", "3", "--cas-required",
                "--delete-version-after", "1h", "--custom-metadata", "owner=team-a",
                "--custom-metadata", "env=prod", p)
        m = data_of(self.rk_json("kv", "metadata", "get", "--format", "json", p))
        self.assertEqual(m["max_versions"], 3)
        self.assertIs(m["cas_required"], True)
        self.assertEqual(go_duration_seconds(m["delete_version_after"]), 3600,
                         "delete_version_after=%r" % m["delete_version_after"])
        self.assertEqual(m["custom_metadata"], {"owner": "team-a", "env": "prod"})
        # cas now required
        self.rk("kv", "put", p, "k=" + SECRETS.track(SECRETS.new()), rc=1)
        self.rk("kv", "put", "--cas", "2", p, "k=" + SECRETS.track(SECRETS.new()))

    def test_delete_undelete_destroy_rm_all(self):
        p = uniq("cli/del")
        vals = [SECRETS.new() for _ in range(3)]
        for v in vals:
            self.put(p, k=v)
        self.rk("kv", "delete", p)                      # latest (3)
        self.rk("kv", "get", p, rc=1)
        self.rk("kv", "undelete", "--versions", "3", p)
        self.assertEqual(self.rk("kv", "get", "--field", "k", p).stdout.strip(), vals[2])
        self.rk("kv", "delete", "--versions", "1,2", p)
        self.rk("kv", "get", "--version", "1", p, rc=1)
        self.rk("kv", "get", "--version", "2", p, rc=1)
        self.rk("kv", "undelete", "--versions", "1,2", p)
        self.assertEqual(self.rk("kv", "get", "--version", "2", "--field", "k", p).stdout.strip(), vals[1])
        self.rk("kv", "destroy", "--versions", "1", p)
        m = data_of(self.rk_json("kv", "metadata", "get", "--format", "json", p))
        self.assertIs(m["versions"]["1"]["destroyed"], True)
        self.rk("kv", "get", "--version", "1", p, rc=1)
        self.rk("kv", "rm-all", p)
        self.rk("kv", "metadata", "get", p, rc=1)
        self.rk("kv", "get", p, rc=1)

    def test_usage_errors_are_2(self):
        p = uniq("cli/usage")
        cases = [
            ("kv", "get"),                                   # missing PATH
            ("kv", "put"),                                   # missing PATH
            ("kv", "get", "--bogus-flag", p),                # unknown flag
            ("kv", "frobnicate", p),                         # unknown subcommand
            ("kv", "put", "--cas", "notanumber", p, "k=v"),  # bad flag value
            ("kv", "get", "--version", "abc", p),
            ("kv", "get", "--format", "yaml-ish", p),        # bad --format
            ("kv", "undelete", p),                           # --versions required
            ("kv", "destroy", "--versions", "x,y", p),
            ("kv", "put", p, "novalue"),                     # not k=v
            ("nosuchcommand",),
        ]
        for args in cases:
            with self.subTest(args=args):
                r = run(args)
                self.assertEqual(r.returncode, 2, "rekey %s: exit %d, stderr %r"
                                 % (" ".join(args), r.returncode, r.stderr[-300:]))
                self.assertTrue(r.stderr.strip(), "usage errors explain themselves on stderr")
        self.rk("kv", "get", p, rc=1)  # and nothing was written by the bad put

    def test_help_is_0(self):
        r = self.rk("--help")
        self.assertIn("kv", r.stdout + r.stderr)
        self.rk("kv", "get", "--help")


class AddressAndToken(CliBase):

    def setUp(self):
        self.path = uniq("cli/env")
        self.value = SECRETS.new()
        self.put(self.path, k=self.value)

    def get_field(self, env, rc=0, extra=()):
        p = self.rk("kv", "get", *extra, "--field", "k", self.path, env=env, rc=rc)
        return p.stdout.strip()

    def test_rekey_env(self):
        self.assertEqual(self.get_field(clean_env(REKEY_ADDR=SRV.url, REKEY_TOKEN=SRV.token)), self.value)

    def test_vault_env_fallback(self):
        self.assertEqual(self.get_field(clean_env(VAULT_ADDR=SRV.url, VAULT_TOKEN=SRV.token)), self.value)

    def test_rekey_env_wins_over_vault_env(self):
        env = clean_env(REKEY_ADDR=SRV.url, REKEY_TOKEN=SRV.token,
                        VAULT_ADDR="http://127.0.0.1:%d" % free_port(), VAULT_TOKEN="wrong")
        self.assertEqual(self.get_field(env), self.value)
        env = clean_env(REKEY_ADDR=SRV.url, REKEY_TOKEN="wrong-token",
                        VAULT_ADDR=SRV.url, VAULT_TOKEN=SRV.token)
        self.get_field(env, rc=1)  # REKEY_TOKEN is used, and it is bad -> 403 -> 1

    def test_flags(self):
        env = clean_env()
        self.assertEqual(self.get_field(env, extra=("--address", SRV.url, "--token", SRV.token)),
                         self.value)
        env = clean_env(REKEY_ADDR="http://127.0.0.1:%d" % free_port(), REKEY_TOKEN="wrong")
        self.assertEqual(self.get_field(env, extra=("--address", SRV.url, "--token", SRV.token)),
                         self.value, "flags override the environment")

    def test_bad_token_is_1(self):
        r = self.rk("kv", "get", self.path, env=clean_env(REKEY_ADDR=SRV.url, REKEY_TOKEN="bad"), rc=1)
        self.assertIn("permission denied", r.stderr + r.stdout)

    def test_unreachable_server(self):
        env = clean_env(REKEY_ADDR="http://127.0.0.1:%d" % free_port(), REKEY_TOKEN=SRV.token)
        r = run(["kv", "get", self.path], env=env)
        self.assertNotIn(r.returncode, (0, 2), "connection failure is an error, not a usage error")
        self.assertTrue(r.stderr.strip())

    def test_status(self):
        r = self.rk("status")
        self.assertTrue(r.stdout.strip())
        doc = self.rk_json("status", "--format", "json")
        self.assertIsInstance(doc, dict)
        self.rk("status", env=clean_env(VAULT_ADDR=SRV.url))  # health needs no token
        env = clean_env(REKEY_ADDR="http://127.0.0.1:%d" % free_port())
        self.assertNotEqual(run(["status"], env=env).returncode, 0, "status of a dead address")


class DevDataDir(unittest.TestCase):

    def test_dev_dir_layout(self):
        key = os.path.join(SRV.data_dir, "root.key")
        self.assertTrue(os.path.isfile(key), "dev mode creates DIR/root.key")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600, "root.key must be mode 0600")
        self.assertTrue(os.path.exists(os.path.join(SRV.data_dir, "rekey.db")), "DIR/rekey.db")

    def test_dev_generated_token_on_stdout(self):
        """Without --dev-root-token the server prints a generated root token to stdout."""
        tmp = tempfile.mkdtemp(prefix="rekey-it-devtok-")
        try:
            addr_file = os.path.join(tmp, "addr")
            with open(os.path.join(tmp, "out"), "wb") as out, open(os.path.join(tmp, "err"), "wb") as err:
                proc = subprocess.Popen([BIN, "server", "--dev", "--listen", "127.0.0.1:0",
                                         "--data-dir", os.path.join(tmp, "data"), "--addr-file", addr_file],
                                        stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            try:
                addr = wait_addr(proc, addr_file)
                deadline = time.monotonic() + 10
                token = None
                while token is None and time.monotonic() < deadline:
                    token = extract_token(read_text(os.path.join(tmp, "out")))
                    time.sleep(0.05)
                self.assertTrue(token, "no root token on stdout within 10 s (is stdout flushed?): %r"
                                % read_text(os.path.join(tmp, "out")))
                r = http_request(addr, "GET", "/v1/auth/token/lookup-self", token=token)
                self.assertEqual(r.status, 200, "printed token %r does not work: %r" % (token, r))
                self.assertIn("root", r.json["data"]["policies"])
            finally:
                proc.terminate()
                proc.wait(15)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def wait_addr(proc, addr_file, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("server exited with %d before writing %s" % (proc.returncode, addr_file))
        text = read_text(addr_file).strip().replace("http://", "")
        if re.match(r"^[\d.]+:[1-9]\d*$", text):
            try:
                if http_request(text, "GET", "/v1/sys/health", timeout=2).status == 200:
                    return text
            except OSError:
                pass
        time.sleep(0.05)
    raise AssertionError("no healthy server at the address in %s within %ds" % (addr_file, timeout))


def extract_token(stdout):
    """Find the root token in `operator init` / dev-server output.

    Accepts JSON with a root_token field, a line like "Root Token: X", or a lone word."""
    s = stdout.strip()
    if not s:
        return None
    try:
        doc = json.loads(s)
        if isinstance(doc, dict):
            for k in ("root_token", "token", "client_token"):
                if isinstance(doc.get(k), str):
                    return doc[k]
    except ValueError:
        pass
    for line in s.splitlines():
        m = re.search(r"root[ _-]?token\s*[:=]\s*(\S+)", line, re.I)
        if m:
            return m.group(1).strip("'\"")
    words = s.split()
    return words[0] if len(words) == 1 else None


class OperatorInitAndConfig(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="rekey-it-init-")
        self.secrets = SecretTracker()

    def tearDown(self):
        if not os.environ.get("REKEY_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def write_config(self, name, data_dir, addr_file):
        cfg = os.path.join(self.tmp, name)
        with open(cfg, "w") as f:
            f.write('listen: ["127.0.0.1:0"]\ndata_dir: %s\naddr_file: %s\n' % (data_dir, addr_file))
        return cfg

    def test_init_then_server_with_config(self):
        data = os.path.join(self.tmp, "data")
        r = subprocess.run([BIN, "operator", "init", "--data-dir", data], capture_output=True,
                           text=True, timeout=CLI_TIMEOUT_S, env=clean_env())
        self.assertEqual(r.returncode, 0, "operator init failed: %s" % r.stderr)
        token = extract_token(r.stdout)
        self.assertTrue(token, "operator init must print the root token; stdout=%r" % r.stdout)
        key = os.path.join(data, "root.key")
        if os.path.exists(key):
            self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600, "root.key must be mode 0600")

        # A second init must not clobber the first (it would orphan all data).
        r2 = subprocess.run([BIN, "operator", "init", "--data-dir", data], capture_output=True,
                            text=True, timeout=CLI_TIMEOUT_S, env=clean_env())
        self.assertNotEqual(r2.returncode, 0, "re-init of an initialised dir must fail")

        addr_file = os.path.join(self.tmp, "addr")
        cfg = self.write_config("cfg.yaml", data, addr_file)
        srv = RekeyServer(config=cfg, addr_file=addr_file, token=token, name="cfg")
        with srv:
            r = srv.request("GET", "/v1/auth/token/lookup-self")
            self.assertEqual(r.status, 200, "init token must work: %r" % r)
            self.assertIn("root", r.json["data"]["policies"])
            v = self.secrets.new()
            self.assertEqual(run(["kv", "put", "cfg/one", "k=" + v], addr=srv.url, token=token).returncode, 0)
            self.assertEqual(run(["kv", "get", "--field", "k", "cfg/one"], addr=srv.url, token=token)
                             .stdout.strip(), v)
            self.assertEqual(srv.request("GET", "/v1/secret/data/cfg/one", token="wrong").status, 403)
            # Restart (graceful) keeps data and token.
            rc = srv.stop()
            self.assertEqual(rc, 0, "SIGTERM must stop the server gracefully with exit code 0\n"
                             + srv.log_tail())
            srv.start()
            r = srv.request("GET", "/v1/secret/data/cfg/one")
            self.assertEqual((r.status, r.json["data"]["data"]), (200, {"k": v}))
            self.secrets.check(srv, label="config server")

    def test_server_on_uninitialised_dir_fails(self):
        empty = os.path.join(self.tmp, "empty")
        os.mkdir(empty)
        for label, data_dir in (("empty dir", empty), ("missing dir", os.path.join(self.tmp, "nope"))):
            with self.subTest(label):
                addr_file = os.path.join(self.tmp, "addr-" + label.replace(" ", "-"))
                cfg = self.write_config("cfg-%s.yaml" % label.replace(" ", "-"), data_dir, addr_file)
                r = subprocess.run([BIN, "server", "--config", cfg], capture_output=True, text=True,
                                   timeout=CLI_TIMEOUT_S, env=clean_env(), stdin=subprocess.DEVNULL)
                self.assertNotEqual(r.returncode, 0, "server on an uninitialised dir must fail")
                self.assertIn("operator init", r.stderr + r.stdout,
                              "the error must say to run `rekey operator init`")
                self.assertFalse(os.path.exists(os.path.join(data_dir, "root.key")),
                                 "a failed start must not initialise the dir")


    def test_second_server_on_the_same_data_dir_is_refused(self):
        # SRV (from setUpModule) holds the data dir's lock; a second server must not open it.
        r = subprocess.run([BIN, "server", "--dev", "--listen", "127.0.0.1:0",
                            "--data-dir", SRV.data_dir, "--dev-root-token", "second"],
                           capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
                           env=clean_env(), stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("in use by another rekey process", r.stderr)
        self.assertEqual(SRV.request("GET", "/v1/sys/health").status, 200)


if __name__ == "__main__":
    harness.main()
