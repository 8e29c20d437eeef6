"""PostgreSQL 15 targets (psycopg2): alternating-users and single-user."""

import psycopg2

from . import Target

CONNECT_TIMEOUT_S = 5

# Messages of a refused login: wrong password (28P01), NOLOGIN role (28000).
_AUTH_MARKERS = ("password authentication failed", "is not permitted to log in")


class _Postgres(Target):
    rotator = "postgres"
    services = ("postgres",)
    strategy = ""

    def _admin_connect(self):
        conn = psycopg2.connect(host=self.env["REKEY_PG_HOST"], port=int(self.env["REKEY_PG_PORT"]),
                                dbname=self.env["REKEY_PG_DATABASE"],
                                user=self.env["REKEY_PG_ADMIN_USER"],
                                password=self.env["REKEY_PG_ADMIN_PASSWORD"],
                                connect_timeout=CONNECT_TIMEOUT_S, sslmode="disable")
        conn.autocommit = True
        return conn

    def _admin_exec(self, *statements):
        conn = self._admin_connect()
        try:
            with conn.cursor() as cur:
                for s in statements:
                    cur.execute(s)
        finally:
            conn.close()

    def admin_credential(self):
        return {"username": self.env["REKEY_PG_ADMIN_USER"],
                "password": self.env["REKEY_PG_ADMIN_PASSWORD"]}

    def rotation_params(self, admin_path):
        return {"host": self.env["REKEY_PG_HOST"], "port": int(self.env["REKEY_PG_PORT"]),
                "database": self.env["REKEY_PG_DATABASE"], "sslmode": "disable",
                "strategy": self.strategy, "username": self.username,
                "admin_secret": admin_path, "statement_timeout": "5s"}

    def connect(self, cred):
        conn = psycopg2.connect(host=cred["host"], port=int(cred["port"]), dbname=cred["database"],
                                user=cred["username"], password=cred["password"],
                                connect_timeout=CONNECT_TIMEOUT_S, sslmode="disable")
        conn.autocommit = True
        return conn

    def ping(self, conn):
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            if cur.fetchone() != (1,):
                raise RuntimeError("SELECT 1 returned something else")

    def close(self, conn):
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass

    def is_auth_error(self, exc):
        return isinstance(exc, psycopg2.OperationalError) and any(
            m in str(exc) for m in _AUTH_MARKERS)

    def _drop_roles(self, *roles):
        try:
            self._admin_exec(*["DROP ROLE IF EXISTS %s" % _ident(r) for r in roles])
        except psycopg2.Error:
            pass


class PostgresAlternating(_Postgres):
    """Two roles and a group role, all created by the rotator's first `set`."""
    name = "postgres/alternating-users"
    strategy = "alternating-users"
    zero_downtime = True

    def __init__(self, services_env):
        super().__init__(services_env)
        self.username = self.run_id + "_app"

    def cleanup(self):
        self._drop_roles(self.username, self.username + "_clone", self.username + "_group")


class PostgresSingle(_Postgres):
    """One LOGIN role without a password; the first rotation gives it one."""
    name = "postgres/single-user"
    strategy = "single-user"
    note = "old password refused from `set` until clients re-read"

    def __init__(self, services_env):
        super().__init__(services_env)
        self.username = self.run_id + "_single"

    def prepare(self):
        self._admin_exec("CREATE ROLE %s LOGIN" % _ident(self.username))

    def cleanup(self):
        self._drop_roles(self.username)


def _ident(name):
    """A quoted SQL identifier (our names are [a-z0-9_], quoting is for form)."""
    return '"%s"' % name.replace('"', '""')
