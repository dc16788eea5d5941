"""The plugin's own key-value store. Writes are staged and applied with the
event's offset when ``handle`` returns; reads see the plugin's own staged
writes."""

import json
from typing import Any, List, Optional

from componentize_py_types import Err

from ._bindings import kv as wit_kv
from . import packed
from .errors import from_wit


def _call(what: str, f, *args):
    try:
        return getattr(wit_kv, f)(*args)
    except Err as e:
        raise from_wit(what, e.value) from None


def get(key: str) -> Optional[bytes]:
    """The value under ``key``, if any."""
    value = _call(f"kv get {key!r}", "get", key)
    return None if value is None else bytes(value)


def get_many(keys: List[str]) -> List[Optional[bytes]]:
    """The values under each of ``keys``, in their order (``None`` where a
    key has none): one host call for the several keys a handler reads an
    event (at most 1024), instead of one each."""
    values = _call(f"kv get-many ({len(keys)} keys)", "get_many", list(keys))
    return [None if v is None else bytes(v) for v in values]


def set(key: str, value: bytes, ttl_ms: Optional[int] = None) -> None:  # noqa: A001
    """Store ``value`` under ``key``; with ``ttl_ms`` (at least 1) it reads as
    absent after that many milliseconds and leaves the quota."""
    if ttl_ms is None:
        _call(f"kv set {key!r}", "set", key, bytes(value))
    else:
        _call(f"kv set {key!r}", "set_with_ttl", key, bytes(value), int(ttl_ms))


def delete(key: str) -> None:
    """Remove ``key`` (a missing key is not an error)."""
    _call(f"kv delete {key!r}", "delete", key)


def list_keys(prefix: str, limit: int = 100) -> List[str]:
    """Keys starting with ``prefix``, in byte order, at most ``limit``."""
    return list(_call(f"kv list {prefix!r}", "list_keys", prefix, limit))


def get_json(key: str) -> Any:
    """The JSON value under ``key``, or ``None``."""
    value = get(key)
    return None if value is None else json.loads(value)


def set_json(key: str, value: Any, ttl_ms: Optional[int] = None) -> None:
    """Store ``value`` as JSON under ``key`` (for ``ttl_ms``, if given)."""
    set(key, json.dumps(value, separators=(",", ":")).encode(), ttl_ms)


def get_packed(key: str) -> Any:
    """The value under ``key`` stored with ``set_packed`` (or, from an
    earlier version, with ``set_json``), or ``None``. Bytes that are
    neither raise ``packed.PackError`` (a ``Reject``)."""
    value = get(key)
    return None if value is None else packed.decode(value)


def set_packed(key: str, value: Any, ttl_ms: Optional[int] = None) -> None:
    """Store ``value`` under ``key`` in the packed encoding
    (``streamplug.packed``): smaller and cheaper than JSON for state
    rewritten on every event, and the same bytes the Rust and JavaScript
    SDKs write."""
    set(key, packed.encode(value), ttl_ms)
