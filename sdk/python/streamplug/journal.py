"""Effectively-once side effects: run an outbound call as a named *step* of
the event being handled; a retried or redelivered event gets the recorded
result instead of calling again::

    message_id = sp.journal.run(f"sms:{order}", lambda key: send_sms(..., message_id=key))

``key`` is the step's idempotency key (a UUID, the same on every attempt):
send it to providers that take one. Results are recorded as JSON, durably,
as soon as the call returns; a call that raises records nothing and runs
again on the next attempt. Name each step uniquely within the event.
"""

import json
from typing import Any, Callable, Optional

from componentize_py_types import Err

from ._bindings import journal as wit_journal
from .errors import from_wit


def _call(what: str, f, *args):
    try:
        return getattr(wit_journal, f)(*args)
    except Err as e:
        raise from_wit(what, e.value) from None


def idempotency_key(step: str) -> str:
    """The idempotency key of ``step`` of the event being handled."""
    return _call(f"journal key {step!r}", "idempotency_key", step)


def recorded(step: str) -> Optional[Any]:
    """The JSON result an earlier attempt recorded for ``step``, if any."""
    value = _call(f"journal read {step!r}", "recorded", step)
    return None if value is None else json.loads(bytes(value))


def record(step: str, value: Any) -> None:
    """Record ``value`` (JSON) as the result of ``step``, durably, now."""
    _call(f"journal record {step!r}", "record", step, json.dumps(value).encode())


def run(step: str, call: Callable[[str], Any]) -> Any:
    """Run ``call(idempotency_key)`` as ``step`` once per event: the result
    an earlier attempt recorded, or ``call``'s, recorded before returning."""
    raw = _call(f"journal read {step!r}", "recorded", step)
    if raw is not None:
        return json.loads(bytes(raw))
    value = call(idempotency_key(step))
    record(step, value)
    return value
