#!/usr/bin/python3
"""Raw single-writer fsync rate of a filesystem: the ceiling for a store that fsyncs each
write on its own (no group commit).

Appends SIZE bytes to a fresh file in DIR and calls os.fsync after every append, in one
thread, for SECONDS; reports fsyncs/s and latency percentiles.  The last line is
machine-readable:  FSYNC_PER_SEC=<float>

    /usr/bin/python3 bench/fsync_rate.py [--dir DIR] [--seconds 5] [--size 200]
"""

import argparse
import os
import sys
import tempfile
import time


def fs_type(path):
    """Best-effort filesystem type and mount point of path (from /proc/self/mounts)."""
    path = os.path.realpath(path)
    best = ("?", "?")
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                mnt = parts[1].replace("\\040", " ")
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[1]):
                    best = (parts[2], mnt)
    except OSError:
        pass
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="directory on the filesystem to test")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--size", type=int, default=200, help="bytes appended before each fsync")
    a = ap.parse_args()

    fd, path = tempfile.mkstemp(prefix="fsync-rate-", dir=a.dir)
    os.close(fd)
    payload = (b"x" * (a.size - 1)) + b"\n"
    lat = []
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            start = time.perf_counter()
            end = start + a.seconds
            now = start
            while now < end:
                t0 = now
                os.write(fd, payload)
                os.fsync(fd)
                now = time.perf_counter()
                lat.append(now - t0)
            elapsed = now - start
        finally:
            os.close(fd)
    finally:
        os.unlink(path)

    n = len(lat)
    rate = n / elapsed if elapsed > 0 else 0.0
    lat.sort()

    def pct(p):
        return lat[min(n - 1, int(p / 100.0 * n))] * 1000.0 if n else float("nan")

    fstype, mnt = fs_type(a.dir)
    print("fsync rate: %d appends of %d B + fsync in %.2fs on %s (%s at %s): %.1f fsyncs/s; "
          "latency p50 %.3f ms, p99 %.3f ms, max %.3f ms"
          % (n, a.size, elapsed, a.dir, fstype, mnt, rate, pct(50), pct(99), lat[-1] * 1000.0 if n else 0))
    print("FSYNC_PER_SEC=%.1f" % rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
