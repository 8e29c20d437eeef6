"""Redis 7 targets (redis-py): an ACL user with several passwords, and `requirepass`."""

import secrets

import redis as redis_py

from . import Target
from services import PrivateServices

TIMEOUT_S = 5


class _Redis(Target):
    rotator = "redis"
    services = ("redis",)

    def _admin_client(self):
        return redis_py.Redis(host=self.env["REKEY_REDIS_HOST"],
                              port=int(self.env["REKEY_REDIS_PORT"]),
                              username=self.env["REKEY_REDIS_ADMIN_USER"],
                              password=self.env["REKEY_REDIS_ADMIN_PASSWORD"],
                              socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)

    def _admin_command(self, *args):
        client = self._admin_client()
        try:
            return client.execute_command(*args)
        finally:
            client.close()

    def connect(self, cred):
        # A dedicated connection, opened (and authenticated) now, not at the first command.
        return redis_py.Redis(host=cred["host"], port=int(cred["port"]),
                              username=cred.get("username") or None, password=cred["password"],
                              socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S,
                              single_connection_client=True)

    def ping(self, conn):
        if conn.ping() is not True:
            raise RuntimeError("PING did not answer PONG")

    def close(self, conn):
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass

    def is_auth_error(self, exc):
        if isinstance(exc, redis_py.exceptions.AuthenticationError):
            return True
        text = str(exc)
        return isinstance(exc, redis_py.exceptions.ResponseError) and (
            "WRONGPASS" in text or "NOAUTH" in text)


class RedisAcl(_Redis):
    """An ACL user allowed only to connect and PING; the rotator adds and removes passwords."""
    name = "redis/single-user"
    zero_downtime = True
    note = "ACL user holds old and new password through the grace"

    def __init__(self, services_env):
        super().__init__(services_env)
        self.username = self.run_id + "_app"

    def prepare(self):
        # `on` without a password: nobody can log in until the first rotation adds one.
        self._admin_command("ACL", "SETUSER", self.username, "reset", "on", "+@connection")

    def admin_credential(self):
        return {"username": self.env["REKEY_REDIS_ADMIN_USER"],
                "password": self.env["REKEY_REDIS_ADMIN_PASSWORD"]}

    def rotation_params(self, admin_path):
        return {"host": self.env["REKEY_REDIS_HOST"], "port": int(self.env["REKEY_REDIS_PORT"]),
                "mode": "acl", "username": self.username, "admin_secret": admin_path,
                "timeout": "5s"}

    def cleanup(self):
        try:
            self._admin_command("ACL", "DELUSER", self.username)
        except redis_py.RedisError:
            pass


class RedisRequirepass(_Redis):
    """The `default` user's one password (CONFIG SET requirepass), on a Redis of our own: the
    shared one keeps `default` off, and requirepass is server-wide."""
    name = "redis/requirepass"
    note = "one password: old one refused from `set`"

    def __init__(self, services_env):
        super().__init__(services_env)
        self.private = PrivateServices("requirepass")
        self.initial = "zd-initial-" + secrets.token_hex(16)

    def prepare(self):
        self.env = dict(self.env)
        self.env.update(self.private.ensure(["redis"]))
        self._admin_command("ACL", "SETUSER", "default", "reset", "on", ">" + self.initial,
                            "~*", "&*", "+@all")

    def seed_value(self):
        return {"username": "default", "password": self.initial,
                "host": self.env["REKEY_REDIS_HOST"], "port": int(self.env["REKEY_REDIS_PORT"])}

    def rotation_params(self, admin_path):
        return {"host": self.env["REKEY_REDIS_HOST"], "port": int(self.env["REKEY_REDIS_PORT"]),
                "mode": "requirepass", "timeout": "5s"}

    def cleanup(self):
        self.private.close()
