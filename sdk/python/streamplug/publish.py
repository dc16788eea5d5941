"""Publish events to topics the manifest grants. Publishes are staged and
written with the event's offset when ``handle`` returns."""

import json
from typing import Any, Iterable, Optional, Tuple

from componentize_py_types import Err

from ._bindings import producer
from .errors import from_wit


def publish(
    topic: str,
    type: str,  # noqa: A002 (the CloudEvents attribute)
    data: Any,
    *,
    subject: Optional[str] = None,
    key: Optional[str] = None,
    content_type: Optional[str] = None,
    headers: Iterable[Tuple[str, str]] = (),
) -> str:
    """Stage an event of ``type`` on ``topic``; ``data`` is sent as JSON
    unless it is ``bytes``. Returns the id the event will carry."""
    if isinstance(data, (bytes, bytearray)):
        payload = bytes(data)
    else:
        payload = json.dumps(data, separators=(",", ":")).encode()
    event = producer.OutgoingEvent(
        topic=topic,
        type=type,
        subject=subject,
        key=key,
        content_type=content_type,
        data=payload,
        headers=list(headers),
    )
    try:
        return producer.publish(event)
    except Err as e:
        raise from_wit(f"publish to {topic!r}", e.value) from None
