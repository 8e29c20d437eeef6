"""The rotation driver: rotates one secret through the rotation API, one run at a time.

rotate_once() starts a run (POST /v1/rotation/rotate/<path>) and polls it
(GET /v1/rotation/runs/<path>?run_id=ID) until it has an outcome; it returns a RunResult and
keeps the final run document (bytes) for the leak check. run(n) does that n times, waiting a
random 1-2 s between the end of one run and the start of the next. A run ends after its grace
period (the old credential is revoked then), so a credential changes every grace + 1-2 s.
"""

import calendar
import random
import time

from harness import quote_path

POLL_S = 0.1
RUN_TIMEOUT_S = 120.0


class RunResult:
    def __init__(self, run, started, promoted_after_s, ended):
        self.run = run                           # the final run document (dict)
        self.outcome = run.get("outcome")        # succeeded / failed / abandoned
        self.attempts = int(run.get("attempt") or 1)
        self.error = run.get("error") or ""
        self.started = started                   # time.monotonic() of the POST
        self.ended = ended                       # time.monotonic() the outcome was seen
        self.promoted_after_s = promoted_after_s  # POST -> new value current (None: never)
        self.window_s = _set_to_finish_s(run)    # `set` began -> `finish` ended
        self.promote_s = _created_to_finish_s(run)  # run created -> `finish` ended
        self.step_s = _step_durations(run)        # {step: seconds} of the last attempt


class DriverError(RuntimeError):
    pass


class RotationDriver:
    def __init__(self, server, path, gap_s=(1.0, 2.0), seed=None):
        self.server = server
        self.path = path
        self.gap_s = gap_s
        self.bodies = []       # every run / rotate answer, as bytes (leak check)
        self._rng = random.Random(seed)

    def rotate_once(self):
        """Starts one run and waits for its outcome. Raises DriverError if it cannot start or
        does not end within RUN_TIMEOUT_S."""
        started = time.monotonic()
        run_id = self._start()
        promoted = None
        deadline = started + RUN_TIMEOUT_S
        while time.monotonic() < deadline:
            r = self.server.request("GET", "/v1/rotation/runs/%s?run_id=%s"
                                    % (quote_path(self.path), run_id))
            if r.status != 200:
                raise DriverError("GET runs of %s: HTTP %d" % (self.path, r.status))
            run = r.json["data"]["runs"][0]
            if promoted is None and run.get("phase") in ("grace", "revoke", "done") and (
                    run.get("outcome") in (None, "succeeded")):
                promoted = time.monotonic() - started
            if run.get("outcome") is not None:
                self.bodies.append(r.body)
                return RunResult(run, started, promoted, time.monotonic())
            time.sleep(POLL_S)
        raise DriverError("run %s of %s did not end within %.0fs" % (run_id, self.path,
                                                                    RUN_TIMEOUT_S))

    def _start(self):
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while True:
            r = self.server.request("POST", "/v1/rotation/rotate/" + quote_path(self.path), {})
            self.bodies.append(r.body)
            if r.status == 200:
                return r.json["data"]["id"]
            if r.status != 409 or time.monotonic() > deadline:
                raise DriverError("POST rotate %s: HTTP %d %s" % (self.path, r.status,
                                                                 r.body[:300]))
            time.sleep(POLL_S)  # an earlier run is still in its grace period

    def run(self, n, on_result=None):
        """n rotations, one after the other; returns their RunResults."""
        results = []
        for i in range(n):
            result = self.rotate_once()
            results.append(result)
            if on_result is not None:
                on_result(i + 1, result)
            if i + 1 < n:
                time.sleep(self._rng.uniform(*self.gap_s))
        return results


def _parse_time(text):
    """RFC 3339 UTC with up to nanoseconds -> Unix seconds (float)."""
    base, _, frac = text.rstrip("Z").partition(".")
    t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    return t + (float("0." + frac) if frac else 0.0)


def _finish_end(run):
    ends = [s["ended"] for s in run.get("steps") or [] if s.get("step") == "finish"
            and s.get("ended")]
    return _parse_time(ends[-1]) if ends else None


def _created_to_finish_s(run):
    """Seconds from the run's creation to the end of its `finish` (the new value current)."""
    end = _finish_end(run)
    return end - _parse_time(run["created"]) if end is not None and run.get("created") else None


def _step_durations(run):
    """{step name: seconds} for the steps of the run's last attempt that have ended."""
    steps = run.get("steps") or []
    last = max((int(s.get("attempt") or 1) for s in steps), default=1)
    return {s["step"]: _parse_time(s["ended"]) - _parse_time(s["started"]) for s in steps
            if int(s.get("attempt") or 1) == last and s.get("started") and s.get("ended")}


def _set_to_finish_s(run):
    """Seconds from the start of the last attempt's `set` to the end of its `finish` (the time
    a single-user target refuses the old password while readers still get it), or None."""
    steps = run.get("steps") or []
    sets = [s for s in steps if s.get("step") == "set" and s.get("started")]
    end = _finish_end(run)
    if not sets or end is None:
        return None
    return end - _parse_time(sets[-1]["started"])
