"""The leak check: no credential value in the rekey server's log, its audit file, the error
bodies it answered, the run history, or the database servers' logs.

Forms looked for: raw, base64 (standard and URL-safe, padded or not), hex (either case) and
URL-encoded (harness.encodings), through harness.SecretTracker where it applies.
"""

import harness


class LeakReport:
    def __init__(self, values, forms, places, found):
        self.values = values     # how many values were looked for
        self.forms = forms       # how many encoded forms of them
        self.places = places     # [(where, bytes searched)]
        self.found = found       # [(where, a short fingerprint of the value)]

    @property
    def ok(self):
        return not self.found

    def line(self):
        where = ", ".join("%s %d B" % (w, n) for w, n in self.places)
        return ("leak check: %d values (%d forms) in %s: %s"
                % (self.values, self.forms, where,
                   "none found" if self.ok else "%d FOUND" % len(self.found)))


def check(server, values, run_bodies, extra_files=()):
    """Looks for every value in everything the server wrote or answered (see module doc).

    values: the passwords (and other secrets) to look for, each >= 16 characters.
    run_bodies: the run/rotate documents the driver received (bytes).
    extra_files: more log files to search (the database servers' logs).
    Returns a LeakReport; never raises for a leak (the caller decides)."""
    tracker = harness.SecretTracker()
    for v in values:
        tracker.track(v)
    found = []
    try:
        tracker.check(server, label=server.name)
    except AssertionError:
        found.append(("server log, audit file or error body", "see the line above"))
    places = [("server log", len(server.read_logs())), ("audit", len(server.read_audit()))]
    extra = [("run history", b"\n".join(run_bodies))]
    for path in extra_files:
        with open(path, "rb") as f:
            extra.append((path, f.read()))
    for where, data in extra:
        places.append((where, len(data)))
        for v in values:
            if any(form in data for form in harness.encodings(v)):
                found.append((where, "a value of %d characters" % len(v)))
    forms = sum(len(harness.encodings(v)) for v in values)
    return LeakReport(len(values), forms, places, found)
