"""MariaDB 10.11 targets (pymysql): alternating-users and single-user."""

import secrets

import pymysql

from . import Target

TIMEOUT_S = 5

# Refused logins: 1045 access denied (wrong password), 4151 / 3118 account locked.
_AUTH_CODES = (1045, 4151, 3118)


class _Mysql(Target):
    rotator = "mysql"
    services = ("mariadb",)
    strategy = ""

    def _admin_exec(self, *statements):
        conn = pymysql.connect(host=self.env["REKEY_MYSQL_HOST"],
                               port=int(self.env["REKEY_MYSQL_PORT"]),
                               user=self.env["REKEY_MYSQL_ADMIN_USER"],
                               password=self.env["REKEY_MYSQL_ADMIN_PASSWORD"],
                               connect_timeout=TIMEOUT_S, autocommit=True)
        try:
            with conn.cursor() as cur:
                for s in statements:
                    cur.execute(s)
        finally:
            conn.close()

    def admin_credential(self):
        return {"username": self.env["REKEY_MYSQL_ADMIN_USER"],
                "password": self.env["REKEY_MYSQL_ADMIN_PASSWORD"]}

    def rotation_params(self, admin_path):
        return {"host": self.env["REKEY_MYSQL_HOST"], "port": int(self.env["REKEY_MYSQL_PORT"]),
                "tls": "disable", "strategy": self.strategy, "username": self.username,
                "admin_secret": admin_path, "timeout": "5s"}

    def connect(self, cred):
        return pymysql.connect(host=cred["host"], port=int(cred["port"]), user=cred["username"],
                               password=cred["password"], connect_timeout=TIMEOUT_S,
                               read_timeout=TIMEOUT_S, write_timeout=TIMEOUT_S, autocommit=True)

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
        return (isinstance(exc, pymysql.err.OperationalError) and bool(exc.args)
                and exc.args[0] in _AUTH_CODES)

    def _drop(self, *statements):
        for s in statements:
            try:
                self._admin_exec(s)
            except pymysql.Error:
                pass


class MysqlAlternating(_Mysql):
    """Two accounts sharing a role, all created by the rotator's first `set`."""
    name = "mysql/alternating-users"
    strategy = "alternating-users"
    zero_downtime = True

    def __init__(self, services_env):
        super().__init__(services_env)
        self.username = self.run_id + "_app"

    def cleanup(self):
        self._drop("DROP USER IF EXISTS '%s'@'%%'" % self.username,
                   "DROP USER IF EXISTS '%s_clone'@'%%'" % self.username,
                   "DROP ROLE IF EXISTS `%s_group`" % self.username)


class MysqlSingle(_Mysql):
    """One account; MariaDB has no dual passwords, so this strategy has downtime there."""
    name = "mysql/single-user"
    strategy = "single-user"
    note = "MariaDB: no dual passwords; old password refused from `set`"

    def __init__(self, services_env):
        super().__init__(services_env)
        self.username = self.run_id + "_single"

    def prepare(self):
        # A throwaway password nobody keeps; the first rotation replaces it.
        self._admin_exec("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'"
                         % (self.username, secrets.token_hex(16)))

    def cleanup(self):
        self._drop("DROP USER IF EXISTS '%s'@'%%'" % self.username)
