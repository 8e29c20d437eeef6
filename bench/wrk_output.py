"""Reads the wrk outputs the bench scripts save as <dir>/wrk-<name>.txt (wrk --latency)."""

import os
import re

UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def parse_wrk(directory, name):
    """{rps, p50, p99 (ms), non2xx, sock (socket error text), total} or None if the run is missing."""
    path = os.path.join(directory, "wrk-%s.txt" % name)
    if not os.path.exists(path):
        return None
    text = open(path).read()

    def lat(p):
        m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s|m|h)\s*$" % p, text, re.M)
        return float(m.group(1)) * UNIT[m.group(2)] if m else float("nan")

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors:\s+(.*)", text)
    total = re.search(r"^\s*(\d+) requests in", text, re.M)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": lat(50), "p99": lat(99),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "sock": sock.group(1).strip() if sock else "",
            "total": int(total.group(1)) if total else 0}
