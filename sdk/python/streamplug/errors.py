"""How a handler says an event was not handled, and how host errors map to
that: retry for what may pass (an unreachable store), reject for what never
will (a topic not granted, a full quota, a malformed event)."""


class Retry(Exception):
    """A transient failure: deliver the event again later, with backoff, up
    to the manifest's ``max_attempts``; then dead-letter it."""


class Reject(Exception):
    """The event can never be handled: send it to the dead-letter topic now."""


class HostError(Exception):
    """A host call failed. ``retry`` tells whether trying the event again
    may succeed; ``kind`` names the WIT error case (``quota-exceeded``,
    ``topic-not-granted``, ...)."""

    def __init__(self, what: str, kind: str, detail: object, retry: bool):
        super().__init__(f"{what}: {kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.retry = retry


# WIT error cases whose failure may pass on a later attempt.
_TRANSIENT = {"Unavailable", "Other"}


def from_wit(what: str, error: object) -> HostError:
    """The HostError for the WIT error value ``error`` of call ``what`` (a
    generated dataclass such as ``KvError_QuotaExceeded``)."""
    case = type(error).__name__.split("_", 1)[-1]
    kind = "".join("-" + c.lower() if c.isupper() else c for c in case).lstrip("-")
    return HostError(what, kind, getattr(error, "value", None), case in _TRANSIENT)
