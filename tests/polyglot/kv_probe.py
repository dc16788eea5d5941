"""Fixture: the Python SDK's KV calls, driven by the event's data, for
tests/integration/polyglot_kv.rs.

- ``"set": {K: V}``: store each text value under its key (``sp.kv.set``);
- ``"get_many": [K, ...]``: then read those keys in one call
  (``sp.kv.get_many``) and store what came back as JSON under
  ``many:<event id>``: the values as text (``null`` where none), or the
  host error's kind (``invalid-key``, ``other``).
"""

import streamplug as sp


class KvProbe(sp.Plugin):
    def handle(self, event: sp.Event) -> None:
        data = event.json()
        for key, value in data.get("set", {}).items():
            sp.kv.set(key, value.encode())
        keys = data.get("get_many")
        if keys is None:
            return
        try:
            values = sp.kv.get_many(keys)
            result = [None if v is None else v.decode() for v in values]
        except sp.HostError as e:
            result = e.kind
        sp.kv.set_json(f"many:{event.id}", result)


Handler = sp.export(KvProbe)
