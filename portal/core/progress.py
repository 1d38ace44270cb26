"""Progress reports for long jobs: a count reported now and then, not for every item."""


def every(step, report):
    """A callback taking a running count that calls `report(count)` each time the count passes
    another multiple of `step` (counts may jump, as when several processes do the work)."""
    last = {"bucket": 0}

    def callback(count):
        bucket = count // step
        if bucket > last["bucket"]:
            last["bucket"] = bucket
            report(count)

    return callback
