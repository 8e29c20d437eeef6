#!/usr/bin/python3
"""Raw single-writer SQLite commit rate: the ceiling for a store that commits each KV write in
its own transaction (no group commit), with rekey's schema and durability settings.

Each transaction does what one KV write does to the store: upsert a ~1.5 KB metadata record,
insert a ~200 B value, delete the value 10 versions back (256 secrets in rotation). WAL,
synchronous=FULL, secure_delete=FAST, one connection, one thread, for SECONDS. Informational:
it is printed beside the fsync rate, the target stays relative to the fsync rate.
The last line is machine-readable:  SQLITE_COMMITS_PER_SEC=<float>

    /usr/bin/python3 bench/sqlite_commit_rate.py [--dir DIR] [--seconds 5]
"""

import argparse
import os
import sqlite3
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    path = os.path.join(args.dir, "sqlite-commit-rate.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA secure_delete=FAST")
    db.execute("CREATE TABLE entries(key TEXT PRIMARY KEY, value BLOB NOT NULL,"
               " mod_index INTEGER NOT NULL) WITHOUT ROWID")
    meta, value = os.urandom(1500), os.urandom(200)
    n = 0
    deadline = time.monotonic() + args.seconds
    start = time.monotonic()
    while time.monotonic() < deadline:
        path_n, version = n % 256, n // 256 + 1
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO entries VALUES (?1, ?2, ?3) ON CONFLICT(key) DO UPDATE SET"
                   " value = excluded.value, mod_index = excluded.mod_index",
                   ("kv/secret/s/bench-%d" % path_n, meta, n))
        db.execute("INSERT INTO entries VALUES (?1, ?2, ?3)",
                   ("kv/secret/s/bench-%d#%020d" % (path_n, version), value, n))
        if version > 10:
            db.execute("DELETE FROM entries WHERE key = ?1",
                       ("kv/secret/s/bench-%d#%020d" % (path_n, version - 10),))
        db.execute("COMMIT")
        n += 1
    elapsed = time.monotonic() - start
    rate = n / elapsed
    print("sqlite commit rate: %d single-write transactions in %.2fs: %.1f commits/s"
          % (n, elapsed, rate))
    print("SQLITE_COMMITS_PER_SEC=%.1f" % rate)


if __name__ == "__main__":
    main()
