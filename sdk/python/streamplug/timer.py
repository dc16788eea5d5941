"""Durable timers: wake the plugin later for the key of the event it is
handling ("if no payment within 15 minutes"). When a timer is due, the
handler gets an event of type ``streamplug.timer`` for that key, whose
``timer_name`` is the timer's name and whose data is the payload.
Scheduling and cancelling take effect with the event's other effects, and
not at all if the handler fails; a timer fires once with the effects of
handling it, after restarts and hot swaps."""

import json
from typing import Any

from componentize_py_types import Err

from ._bindings import timer as wit_timer
from .errors import from_wit

TYPE = "streamplug.timer"


def schedule(name: str, after_ms: int, payload: bytes = b"") -> None:
    """Schedule timer ``name`` for the key of the event being handled, due
    in ``after_ms`` milliseconds, with ``payload`` as its event's data; a
    pending timer of that name and key is replaced."""
    try:
        wit_timer.schedule(name, after_ms, payload)
    except Err as e:
        raise from_wit("schedule a timer", e.value) from None


def schedule_json(name: str, after_ms: int, payload: Any) -> None:
    """``schedule`` with ``payload`` as JSON."""
    schedule(name, after_ms, json.dumps(payload, separators=(",", ":")).encode())


def cancel(name: str) -> bool:
    """Cancel timer ``name`` of the key of the event being handled; whether
    one was pending."""
    try:
        return wit_timer.cancel(name)
    except Err as e:
        raise from_wit("cancel a timer", e.value) from None
