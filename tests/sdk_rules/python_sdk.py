"""Asks the Python SDK's own modules (sdk/python/streamplug/errors.py,
settings.py and packed.py, loaded from their files: they need no component) the
questions on stdin, one JSON object per line, and answers each with one
JSON line. Used by tests/integration/sdk_rules.rs."""

import dataclasses
import importlib.util
import json
import sys
import types
import typing


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sdk = sys.argv[1]
errors = load(f"{sdk}/errors.py", "errors")
settings = load(f"{sdk}/settings.py", "settings")
# packed.py imports errors.py relatively: load it inside a package of two.
sys.modules["streamplug"] = types.ModuleType("streamplug")
sys.modules["streamplug.errors"] = errors
packed = load(f"{sdk}/packed.py", "streamplug.packed")

KINDS = {"string": str, "number": float, "integer": int, "boolean": bool, "list": typing.List[str]}


def config_type(fields):
    """A dataclass with the given fields: name, kind, required or default."""
    spec = []
    for f in fields:
        kind = KINDS[f["kind"]]
        if f.get("required"):
            spec.append((f["name"], kind))
        elif "default" in f:
            default = f["default"]
            if isinstance(default, list):
                spec.append((f["name"], kind, dataclasses.field(default_factory=lambda d=default: list(d))))
            else:
                spec.append((f["name"], kind, dataclasses.field(default=default)))
        else:
            spec.append((f["name"], typing.Optional[kind], dataclasses.field(default=None)))
    required = [s for s in spec if len(s) == 2]
    rest = [s for s in spec if len(s) == 3]
    return dataclasses.make_dataclass("Config", required + rest)


def answer(q):
    if q["ask"] == "wit":
        generated = type(f"{q['class']}_{q['class_case']}", (), {"value": "x"})()
        return {
            "retries": errors.retries(q["variant"], q["case"]),
            "from_wit": errors.from_wit("call", generated).retry,
        }
    if q["ask"] == "http-code":
        return {"retries": errors.http_code_retries(q["code"])}
    if q["ask"] == "status":
        return {"retries": errors.status_retries(q["status"])}
    if q["ask"] == "config":
        try:
            parsed = settings.parse(config_type(q["fields"]), q["values"])
            return {"ok": dataclasses.asdict(parsed)}
        except ValueError as e:
            return {"error": str(e)}
    if q["ask"] == "pack":
        return {
            "hex": packed.encode(q["value"]).hex(),
            "decoded": packed.decode(bytes.fromhex(q["rust"])),
        }
    if q["ask"] == "unpack":
        try:
            return {"ok": packed.decode(bytes.fromhex(q["hex"]))}
        except packed.PackError as e:
            return {"error": str(e), "rejects": isinstance(e, errors.Reject)}
    raise ValueError(q)


for line in sys.stdin:
    print(json.dumps(answer(json.loads(line))), flush=True)
