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


# Which host errors may pass on a later attempt: the table of
# sdk/host-errors.json (the Rust and JavaScript SDKs follow the same one; a
# test holds all three to it). The WIT error cases that retry, by variant:
RETRY_CASES = {
    "kv-error": {"unavailable", "other"},
    "journal-error": {"unavailable"},
    "publish-error": {"other"},
    "push-error": {"other"},
    "timer-error": {"too-many", "unavailable"},
}

# The wasi:http error codes of a request that got no response which no retry
# can mend (the request itself is refused); every other code retries.
HTTP_REFUSALS = {
    "HTTP-request-denied",
    "HTTP-request-method-invalid",
    "HTTP-request-URI-invalid",
    "HTTP-request-URI-too-long",
    "HTTP-request-header-size",
    "HTTP-request-header-section-size",
    "HTTP-request-body-size",
    "HTTP-response-body-size",
    "destination-IP-prohibited",
    "configuration-error",
}


def _folded(name: str) -> str:
    """A case name compared without case and separators: ``HttpRequestUriInvalid``
    (a generated class) and ``HTTP-request-URI-invalid`` (WIT) are the same."""
    return name.replace("-", "").replace("_", "").lower()


_HTTP_REFUSALS_FOLDED = {_folded(name) for name in HTTP_REFUSALS}


def retries(variant: str, case: str) -> bool:
    """Whether WIT error ``case`` of ``variant`` (``kv-error``,
    ``quota-exceeded``) retries the event."""
    return case in RETRY_CASES.get(variant, set())


def http_code_retries(code: str) -> bool:
    """Whether a request that got wasi:http error ``code`` instead of a
    response retries the event."""
    return _folded(code) not in _HTTP_REFUSALS_FOLDED


def status_retries(status: int) -> bool:
    """Whether an outbound response with a non-2xx ``status`` retries the
    event: 429 and 5xx."""
    return status == 429 or status >= 500


def _kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def wit_case(error: object) -> str:
    """The case name of a generated WIT variant value (``QuotaExceeded`` for
    ``KvError_QuotaExceeded``)."""
    return type(error).__name__.split("_", 1)[-1]


def from_wit(what: str, error: object, retry: Optional[bool] = None) -> HostError:
    """The HostError for the WIT error value ``error`` of call ``what`` (a
    generated dataclass such as ``KvError_QuotaExceeded``); it retries the
    event when ``retry`` says so or, by default, as the table says."""
    variant, _, case = type(error).__name__.partition("_")
    kind = _kebab(case)
    if retry is None:
        retry = retries(_kebab(variant), kind)
    return HostError(what, kind, getattr(error, "value", None), retry)
