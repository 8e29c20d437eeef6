"""The results as markdown tables (one row per combination)."""

import os
import platform


def _ms(v):
    return "–" if v is None else "%.0f" % v


def table(results):
    """The main table: one row per ScenarioResult."""
    lines = [
        "| combination | zero-downtime | rotations ok / failed (retried) | requests | "
        "failed requests (per-request / pooled) | auth failures before retry | other errors | "
        "rotations with a failed request | set→current median / max (ms) | time (s) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        med, worst = r.window_ms()
        per = r.by_kind.get("per-request")
        pooled = r.by_kind.get("pooled")
        lines.append("| %s | %s | %d / %d (%d) | %d | **%d** (%d / %d) | %d | %d | %d of %d | "
                     "%s / %s | %.0f |"
                     % (r.name, "yes" if r.zero_downtime else "no", r.rotations_ok,
                        r.rotations_failed, r.retried, r.stats.requests, r.stats.failed,
                        per.failed if per else 0, pooled.failed if pooled else 0,
                        r.stats.auth_failures, r.stats.other_errors,
                        r.rotations_with_failures(), len(r.results), _ms(med), _ms(worst),
                        r.seconds))
    return "\n".join(lines)


def details(results):
    """Per combination: verdict, timings, fairness, leak check, error samples (redacted)."""
    out = []
    for r in results:
        pm, pw = r.promote_ms()
        lo, mid, hi = r.worker_spread()
        out.append("- %s: %s (machine load average %.1f at the start, %.1f at the end)"
                   % (r.name, "PASS" if r.passed() else "FAIL", r.loadavg[0], r.loadavg[1]))
        out.append("  - rotate→current median %s ms (max %s); a run lasts %.1f s median "
                   "(grace included); %d secret reads by the clients, %d watcher errors; "
                   "requests per worker min/median/max %d/%d/%d"
                   % (_ms(pm), _ms(pw), r.run_s() or 0, r.secret_reads, r.watcher_errors,
                      lo, mid, hi))
        out.append("  - median step times (ms): %s" % ", ".join(
            "%s %.0f" % kv for kv in r.step_ms().items()))
        out.append("  - %s" % r.leak.line())
        for kind, cls, etype, msg in r.stats.samples:
            out.append("  - %s %s error %s: %s" % (kind, cls, etype, msg))
    return "\n".join(out)


def machine():
    """One line describing where the numbers come from."""
    return "%s, %d cores, Python %s, REKEY_BIN=%s" % (
        platform.platform(terse=True), os.cpu_count() or 0, platform.python_version(),
        os.environ.get("REKEY_BIN", "?"))
