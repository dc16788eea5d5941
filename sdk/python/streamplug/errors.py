"""How a handler says an event was not handled, and how host errors map to
that: retry for what may pass (an unreachable store), reject for what never
will (a topic not granted, a full quota, a malformed event)."""

from typing import Optional


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


def wit_case(error: object) -> str:
    """The case name of a generated WIT variant value (``QuotaExceeded`` for
    ``KvError_QuotaExceeded``)."""
    return type(error).__name__.split("_", 1)[-1]


def from_wit(what: str, error: object, retry: Optional[bool] = None) -> HostError:
    """The HostError for the WIT error value ``error`` of call ``what`` (a
    generated dataclass such as ``KvError_QuotaExceeded``); it retries the
    event when ``retry`` says so or, by default, for the transient cases."""
    case = wit_case(error)
    kind = "".join("-" + c.lower() if c.isupper() else c for c in case).lstrip("-")
    if retry is None:
        retry = case in _TRANSIENT
    return HostError(what, kind, getattr(error, "value", None), retry)
