"""A plugin's typed configuration: the manifest's ``[plugins.config]`` values
read into a dataclass the plugin declares as its ``Config``, with the same
rules as the Rust SDK (``streamplug_sdk::config``)::

    @dataclass
    class Settings:
        salesforce_url: str                   # required
        top_n: int = 5                        # parsed from its text
        notify_url: Optional[str] = None      # may be absent
        notable: List[str] = field(default_factory=list)  # comma-separated
        verbose: bool = False                 # "true" or "false"

    class Recommend(sp.Plugin):
        Config = Settings

        def init(self, config: Settings) -> None:
            ...

A required key that is missing, a key the dataclass does not have, or a
value that does not parse refuses the plugin, with a message naming the key.
Keys are compared in lower case, as the Rust SDK does.
"""

import dataclasses
import types
import typing
from typing import Any, Dict, List


def parse(config_type: type, values: Dict[str, str]) -> Any:
    """``values`` read into ``config_type``, a dataclass."""
    if not dataclasses.is_dataclass(config_type):
        raise TypeError(f"a plugin's Config is a dataclass, not {config_type!r}")
    hints = typing.get_type_hints(config_type)
    fields = {f.name: f for f in dataclasses.fields(config_type) if f.init}
    given = {key.lower(): text for key, text in values.items()}
    for key in sorted(given):
        if key not in fields:
            expected = ", ".join(f"`{name}`" for name in fields)
            raise ValueError(f"config: unknown field `{key}`, expected one of {expected}")
    arguments = {}
    for name, f in fields.items():
        if name in given:
            arguments[name] = _read(name, given[name], hints[name])
        elif _optional(hints[name]) is not None:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                arguments[name] = None
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"config `{name}` is required")
    return config_type(**arguments)


def _optional(kind: Any) -> Any:
    """``T`` for ``Optional[T]`` (``T | None``), else None."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(rest) == 1 and len(typing.get_args(kind)) == 2:
            return rest[0]
    return None


def _read(key: str, text: str, kind: Any) -> Any:
    inner = _optional(kind)
    if inner is not None:
        return _read(key, text, inner)
    if typing.get_origin(kind) in (list, List):
        (item,) = typing.get_args(kind) or (str,)
        return [_read(key, part, item) for part in text.split(",")]
    if kind is str:
        return text
    if kind is bool:
        if text in ("true", "false"):
            return text == "true"
        raise ValueError(f"config: `{text}` is not true or false, provided by {key}")
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise ValueError(f"config: `{text}` is not {what}, provided by {key}") from None
    raise TypeError(f"config `{key}`: a field of type {kind!r} cannot be read from text")
