"""The packed encoding of KV values: compact, binary and cheap to read and
write, for state a plugin rewrites on every event (tables of weights,
per-customer documents). The same bytes as the Rust SDK's
``streamplug_sdk::packed`` and the JavaScript SDK's ``packed.js``.

A packed value is the byte ``0xC1`` followed by the value in MessagePack
(https://github.com/msgpack/msgpack/blob/master/spec.md). ``0xC1`` is the
one byte MessagePack never uses and no JSON text starts with, so ``decode``
also reads a value stored as JSON (``kv.set_json``): a plugin can move its
state to the packed encoding in a new version without a migration.

Types: ``None``, ``bool``, ``int`` (64 bits, signed or unsigned), ``float``
(always as float 64), ``str``, ``bytes`` (MessagePack bin), lists and
tuples (arrays, read back as lists) and dicts (maps). Integers take their
shortest form, as every MessagePack library writes them. The codec is small
and written here because the SDK is plain source compiled into the
component: a native MessagePack extension does not load under
componentize-py.
"""

import json
import struct
from typing import Any, List

from .errors import Reject

TAG = 0xC1


class PackError(Reject):
    """A value that cannot be packed, or bytes that are not a packed value
    (nor JSON). Uncaught, it rejects the event, like the Rust SDK's
    ``PackError``."""


def encode(value: Any) -> bytes:
    """``value``, packed."""
    out: List[bytes] = [bytes([TAG])]
    _write(out, value, 0)
    return b"".join(out)


def decode(data: bytes) -> Any:
    """The value in ``data``: packed, or JSON (what ``kv.set_json`` stores)."""
    data = bytes(data)
    if data[:1] == bytes([TAG]):
        reader = _Reader(data, 1)
        try:
            return reader.value(0)
        except (IndexError, struct.error, UnicodeDecodeError, TypeError) as e:
            raise PackError(f"invalid packed value: {e or 'cut short'}") from None
    try:
        return json.loads(data)
    except ValueError as e:
        raise PackError(f"neither a packed value nor JSON: {e}") from None


_MAX_DEPTH = 256


def _write(out: List[bytes], value: Any, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise PackError("cannot pack the value: nested too deeply")
    if value is None:
        out.append(b"\xc0")
    elif value is True:
        out.append(b"\xc3")
    elif value is False:
        out.append(b"\xc2")
    elif isinstance(value, int):
        out.append(_int(value))
    elif isinstance(value, float):
        out.append(struct.pack(">Bd", 0xCB, value))
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        out.append(_head(len(raw), 0xA0, 32, 0xD9, 0xDA, 0xDB))
        out.append(raw)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        out.append(_head(len(raw), None, 0, 0xC4, 0xC5, 0xC6))
        out.append(raw)
    elif isinstance(value, (list, tuple)):
        out.append(_head(len(value), 0x90, 16, None, 0xDC, 0xDD))
        for item in value:
            _write(out, item, depth + 1)
    elif isinstance(value, dict):
        out.append(_head(len(value), 0x80, 16, None, 0xDE, 0xDF))
        for key, item in value.items():
            _write(out, key, depth + 1)
            _write(out, item, depth + 1)
    else:
        raise PackError(f"cannot pack the value: {type(value).__name__} is not packable")


def _int(n: int) -> bytes:
    if 0 <= n < 0x80:
        return bytes([n])
    if -32 <= n < 0:
        return struct.pack(">b", n)
    if n >= 0:
        for code, fmt, bound in ((0xCC, ">BB", 1 << 8), (0xCD, ">BH", 1 << 16),
                                 (0xCE, ">BI", 1 << 32), (0xCF, ">BQ", 1 << 64)):
            if n < bound:
                return struct.pack(fmt, code, n)
    else:
        for code, fmt, bound in ((0xD0, ">Bb", 1 << 7), (0xD1, ">Bh", 1 << 15),
                                 (0xD2, ">Bi", 1 << 31), (0xD3, ">Bq", 1 << 63)):
            if n >= -bound:
                return struct.pack(fmt, code, n)
    raise PackError(f"cannot pack the value: {n} does not fit in 64 bits")


def _head(length: int, fix: Any, fix_bound: int, c8: Any, c16: int, c32: int) -> bytes:
    """The header of a string, binary, array or map of ``length`` items."""
    if fix is not None and length < fix_bound:
        return bytes([fix | length])
    if c8 is not None and length < 1 << 8:
        return bytes([c8, length])
    if length < 1 << 16:
        return struct.pack(">BH", c16, length)
    if length < 1 << 32:
        return struct.pack(">BI", c32, length)
    raise PackError("cannot pack the value: longer than 2^32 - 1")


class _Reader:
    def __init__(self, data: bytes, at: int):
        self.data = data
        self.at = at

    def take(self, n: int) -> bytes:
        end = self.at + n
        if end > len(self.data):
            raise IndexError("cut short")
        chunk = self.data[self.at:end]
        self.at = end
        return chunk

    def unpack(self, fmt: str, n: int) -> Any:
        return struct.unpack(fmt, self.take(n))[0]

    def value(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise PackError("invalid packed value: nested too deeply")
        b = self.take(1)[0]
        if b < 0x80:
            return b
        if b >= 0xE0:
            return b - 0x100
        if 0x80 <= b <= 0x8F:
            return self.map(b & 0x0F, depth)
        if 0x90 <= b <= 0x9F:
            return self.array(b & 0x0F, depth)
        if 0xA0 <= b <= 0xBF:
            return self.take(b & 0x1F).decode("utf-8")
        simple = _SIMPLE.get(b)
        if simple is not None:
            fmt, n = simple
            return self.unpack(fmt, n)
        if b == 0xC0:
            return None
        if b in (0xC2, 0xC3):
            return b == 0xC3
        if b in _STR:
            return self.take(self.unpack(*_STR[b])).decode("utf-8")
        if b in _BIN:
            return self.take(self.unpack(*_BIN[b]))
        if b in (0xDC, 0xDD):
            return self.array(self.unpack(*_LEN[b]), depth)
        if b in (0xDE, 0xDF):
            return self.map(self.unpack(*_LEN[b]), depth)
        raise PackError(f"invalid packed value: type byte 0x{b:02x} is not supported")

    def array(self, n: int, depth: int) -> list:
        return [self.value(depth + 1) for _ in range(n)]

    def map(self, n: int, depth: int) -> dict:
        result = {}
        for _ in range(n):
            key = self.value(depth + 1)
            if isinstance(key, list):
                key = tuple(key)
            result[key] = self.value(depth + 1)
        return result


# Fixed-size scalars: type byte -> (struct format, size).
_SIMPLE = {
    0xCA: (">f", 4), 0xCB: (">d", 8),
    0xCC: (">B", 1), 0xCD: (">H", 2), 0xCE: (">I", 4), 0xCF: (">Q", 8),
    0xD0: (">b", 1), 0xD1: (">h", 2), 0xD2: (">i", 4), 0xD3: (">q", 8),
}
_STR = {0xD9: (">B", 1), 0xDA: (">H", 2), 0xDB: (">I", 4)}
_BIN = {0xC4: (">B", 1), 0xC5: (">H", 2), 0xC6: (">I", 4)}
_LEN = {0xDC: (">H", 2), 0xDD: (">I", 4), 0xDE: (">H", 2), 0xDF: (">I", 4)}
