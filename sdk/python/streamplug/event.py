"""The event a plugin handles."""

import json
from typing import Any, Optional

from .errors import Reject


class Event:
    """One event, as the gateway delivers it (CloudEvents attributes, the
    data bytes, extension headers, and its position in the log)."""

    def __init__(self, wit_event: Any):
        self._e = wit_event

    @property
    def id(self) -> str:
        return self._e.id

    @property
    def source(self) -> str:
        return self._e.source

    @property
    def type(self) -> str:
        return self._e.type

    @property
    def subject(self) -> Optional[str]:
        return self._e.subject

    @property
    def time(self) -> Optional[str]:
        return self._e.time

    @property
    def topic(self) -> str:
        return self._e.topic

    @property
    def key(self) -> Optional[str]:
        return self._e.key

    @property
    def content_type(self) -> Optional[str]:
        return self._e.content_type

    @property
    def data(self) -> bytes:
        return bytes(self._e.data)

    @property
    def position(self) -> tuple:
        """``(partition, offset)`` in the topic."""
        return (self._e.partition, self._e.offset)

    @property
    def timer_name(self) -> Optional[str]:
        """The name of the timer this event is, if it is a fired timer
        (``sp.timer``)."""
        if self.type != "streamplug.timer":
            return None
        return self.header("timername")

    def header(self, name: str) -> Optional[str]:
        """The extension attribute ``name``, if present."""
        for key, value in self._e.headers:
            if key == name:
                return value
        return None

    def json(self) -> Any:
        """The data parsed as JSON; data that is not JSON rejects the event
        (it can never be handled)."""
        try:
            return json.loads(self.data)
        except ValueError as e:
            raise Reject(f"invalid JSON: {e}") from None

    def __repr__(self) -> str:
        return f"Event(id={self.id!r}, type={self.type!r}, key={self.key!r})"
