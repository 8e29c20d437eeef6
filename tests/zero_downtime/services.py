"""The real database servers, through scripts/services.

ensure_services(names) starts PostgreSQL, MariaDB and/or Redis (idempotent; a server another
test already started in the same $REKEY_SERVICES_DIR is reused) and returns the variables of the
env file it writes (REKEY_PG_HOST, REKEY_MYSQL_PORT, ...).

SharedServices remembers which servers were not running before it started them, so that stop()
leaves alone the ones a test run (scripts/run-tests) or a developer started.

PrivateServices is a services directory of the harness's own (stopped and removed by close()),
for a server whose global configuration the harness changes, such as Redis `requirepass`.
"""

import os
import shlex
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = os.path.join(REPO, "scripts", "services")


class ServicesError(RuntimeError):
    pass


def _run(args, env=None):
    """Runs scripts/services ARGS; returns stdout. Raises ServicesError with its stderr."""
    proc = subprocess.run([SERVICES] + list(args), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=180)
    if proc.returncode != 0:
        raise ServicesError("scripts/services %s failed (%d): %s"
                            % (" ".join(args), proc.returncode, proc.stderr.strip()[-2000:]))
    return proc.stdout


def parse_env(text):
    """The `export NAME=value` lines of a services env file as a dict (values unquoted)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("export "):
            continue
        name, sep, value = line[len("export "):].partition("=")
        if sep:
            parts = shlex.split(value)
            out[name] = parts[0] if parts else ""
    return out


def ensure_services(names, env=None):
    """Starts the named services (postgres, mariadb, redis) and returns the env file's variables.

    env: the environment for scripts/services (None = this process's, so $REKEY_SERVICES_DIR is
    honoured). Raises ServicesError when a server does not start.
    """
    path = _run(["start"] + list(names), env=env).strip().splitlines()[-1]
    with open(path) as f:
        return parse_env(f.read())


def log_files(services_env):
    """The server log files in a services directory (for the leak check)."""
    d = services_env.get("REKEY_SERVICES_DIR", "")
    names = ("pg.log", "my.log", "redis.log")
    return [os.path.join(d, n) for n in names if d and os.path.isfile(os.path.join(d, n))]


def is_running(name, env=None):
    """True when scripts/services reports the service running."""
    proc = subprocess.run([SERVICES, "status", name], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=60)
    return proc.returncode == 0


class SharedServices:
    """The servers in $REKEY_SERVICES_DIR (default /tmp/rekey-services-<uid>)."""

    def __init__(self):
        self.started = []  # the ones this process started

    def ensure(self, names):
        """Starts the named services if needed; returns the env file's variables."""
        for n in names:
            if n not in self.started and not is_running(n):
                self.started.append(n)
        return ensure_services(names)

    def stop(self):
        """Stops the servers this process started (their data stays for the next run)."""
        if self.started:
            try:
                _run(["stop"] + self.started)
            except (ServicesError, subprocess.TimeoutExpired):
                pass


class PrivateServices:
    """A services directory of our own: ensure(names) starts servers in it, close() removes it."""

    def __init__(self, label):
        self.dir = tempfile.mkdtemp(prefix="rekey-zd-%s-" % label)
        self.env = dict(os.environ, REKEY_SERVICES_DIR=self.dir)

    def ensure(self, names):
        return ensure_services(names, env=self.env)

    def close(self):
        try:
            _run(["clean"], env=self.env)
        except (ServicesError, subprocess.TimeoutExpired):
            pass
