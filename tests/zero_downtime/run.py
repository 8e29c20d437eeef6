#!/usr/bin/python3
"""Zero-downtime harness for the database rotators (issue 4, item 5).

For each rotator × strategy, N client workers read their credential from rekey the way an
application does (cache it; re-read after a rotation event or an authentication failure, then
retry once) and run trivial requests against a real server while rekey rotates the credential R
times. Prints a markdown table; exits 1 if a zero-downtime combination had a failed request, a
rotation failed, or a credential value leaked into a log, the audit file or the run history.

    REKEY_BIN=/path/to/rekey /usr/bin/python3 tests/zero_downtime/run.py \\
        [--rotations 100] [--workers 32] [--only postgres/alternating-users,...] [--json FILE]

The database servers come from scripts/services, in $REKEY_SERVICES_DIR: the ones already running
are used and left running; the ones this run had to start are stopped at the end.
"""

import argparse
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness  # noqa: E402
import report  # noqa: E402
import services  # noqa: E402
from scenario import Options, run_scenario  # noqa: E402
from targets import all_targets  # noqa: E402


SKIP = 77  # the exit code ctest counts as "skipped" (SKIP_RETURN_CODE)


def targets_or_exit():
    """name -> Target class; exits 2 with what to install when a Python driver is missing."""
    try:
        return all_targets()
    except ImportError as e:
        sys.stderr.write("zero-downtime: %s: install python3-psycopg2, python3-pymysql and "
                         "python3-redis (scripts/install-deps test) and use /usr/bin/python3\n"
                         % e)
        sys.exit(2)


def parse_args(argv):
    names = list(targets_or_exit())
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rotations", type=int, default=100, help="rotations per combination")
    p.add_argument("--workers", type=int, default=32,
                   help="client workers (half per-request, half pooled)")
    p.add_argument("--only", action="append", default=[],
                   help="combination(s) to run, comma-separated: " + ", ".join(names))
    p.add_argument("--grace", default="3s", help="grace period of the rotation config")
    p.add_argument("--think-ms", type=float, default=50.0,
                   help="mean pause between a worker's requests (0 = none)")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv)
    only = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = [n for n in only if n not in names]
    if unknown:
        p.error("unknown combination(s) %s; known: %s" % (", ".join(unknown), ", ".join(names)))
    if args.rotations < 1 or args.workers < 1:
        p.error("--rotations and --workers must be at least 1")
    args.combos = only or names
    return args


def main(argv):
    args = parse_args(argv)
    if os.environ.get("REKEY_NO_SERVICES") == "1":
        print("zero-downtime: SKIPPED: REKEY_NO_SERVICES=1 (no database servers)")
        return SKIP
    harness.rekey_bin()  # exits with a clear message when REKEY_BIN is unusable
    opts = Options(rotations=args.rotations, workers=args.workers, grace=args.grace,
                   think_s=args.think_ms / 1000.0, verbose=not args.quiet)
    targets = targets_or_exit()
    results, crashed = [], []
    started = time.monotonic()
    shared = services.SharedServices()
    try:
        for name in args.combos:
            try:
                results.append(run_scenario(targets[name], opts, shared))
            except Exception:  # noqa: BLE001 - report it, go on with the next combination
                crashed.append(name)
                sys.stderr.write("zero-downtime: %s could not run:\n%s"
                                 % (name, traceback.format_exc()))
    finally:
        shared.stop()
    print("\n## Zero-downtime harness: %d rotations, %d workers, grace %s\n"
          % (args.rotations, args.workers, args.grace))
    print(report.table(results))
    print("\n" + report.details(results))
    print("\nmachine: %s; total %.0f s" % (report.machine(), time.monotonic() - started))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rotations": args.rotations, "workers": args.workers,
                       "grace": args.grace, "machine": report.machine(),
                       "results": [r.to_json() for r in results], "crashed": crashed}, f,
                      indent=2)
    failed = [r.name for r in results if not r.passed()] + crashed
    if failed:
        print("\nFAIL: %s" % ", ".join(failed))
        return 1
    print("\nPASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
