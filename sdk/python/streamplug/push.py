"""Push messages to a customer's live WebSocket sessions (through the push
log, so sessions that resume later get them too)."""

import json
from typing import Any

from componentize_py_types import Err

from ._bindings import push as wit_push
from .errors import from_wit


def push(customer: str, channel: str, message_type: str, data: Any) -> None:
    """Stage a push of ``message_type`` with ``data`` (JSON) on ``channel``
    to every session of ``customer``."""
    payload = json.dumps(data, separators=(",", ":")).encode()
    try:
        wit_push.to_customer(customer, channel, message_type, payload)
    except Err as e:
        raise from_wit(f"push to {customer!r} on {channel!r}", e.value) from None
