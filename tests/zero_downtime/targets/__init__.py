"""The rotator × strategy combinations the harness exercises, by name.

A Target prepares a real database for one combination (the accounts the rotator's docs ask for),
says how rekey should rotate it, and is the application's database client for it:

    prepare()              create the app account(s) on the server (names unique to this run)
    admin_credential()     {"username", "password"} the rotator logs in with, or None
    seed_value()           the secret's first value (written before the first rotation), or None
    rotation_params(path)  the rotator's `params`, given the KV path of the admin credential
    connect(cred)          a new client connection authenticated with cred (the secret's value);
                           raises the driver's exception on failure
    ping(conn)             one trivial request (SELECT 1 / PING) on an open connection
    close(conn)            closes a connection, never raises
    is_auth_error(exc)     True when exc means the server refused the credential
    cleanup()              drop what prepare() created; never raises

connect/ping/close/is_auth_error are called from many threads at once.
"""

import secrets


class Target:
    name = ""            # "<rotator>/<strategy>"
    rotator = ""         # the rekey rotator
    services = ()        # scripts/services names the target needs
    zero_downtime = False
    note = ""            # one line for the table

    def __init__(self, services_env):
        self.env = services_env
        self.run_id = "zd" + secrets.token_hex(3)

    def prepare(self):
        pass

    def admin_credential(self):
        return None

    def seed_value(self):
        return None

    def rotation_params(self, admin_path):
        raise NotImplementedError

    def connect(self, cred):
        raise NotImplementedError

    def ping(self, conn):
        raise NotImplementedError

    def close(self, conn):
        raise NotImplementedError

    def is_auth_error(self, exc):
        raise NotImplementedError

    def cleanup(self):
        pass


def all_targets():
    """Every combination, in the order the harness runs them: name -> Target subclass."""
    from .mysql_target import MysqlAlternating, MysqlSingle
    from .postgres_target import PostgresAlternating, PostgresSingle
    from .redis_target import RedisAcl, RedisRequirepass
    classes = [PostgresAlternating, PostgresSingle, MysqlAlternating, MysqlSingle, RedisAcl,
               RedisRequirepass]
    return {c.name: c for c in classes}
