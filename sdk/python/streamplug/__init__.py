"""Write streamplug plugins in Python.

A plugin is a class with ``handle(self, event)`` (and optionally
``init(self, config)``), exported with one line::

    import streamplug as sp

    class ViewCounter(sp.Plugin):
        def handle(self, event: sp.Event) -> None:
            product = event.json()["product"]
            views = (sp.kv.get_json(f"views:{product}") or 0) + 1
            sp.kv.set_json(f"views:{product}", views)
            sp.publish("product-stats", "product.view_count",
                       {"product": product, "views": views}, subject=event.subject)

    Handler = sp.export(ViewCounter)

Its configuration (the manifest's ``[plugins.config]``) arrives typed when
the class names a dataclass as ``Config``: each key a field, parsed from its
text, defaults from the dataclass, a missing required key or an unknown one
refusing the plugin (``streamplug.settings``, the Rust SDK's rules).

Raise ``sp.Retry(reason)`` for a transient failure (the event is delivered
again with backoff) and ``sp.Reject(reason)`` for an event that can never be
handled (it goes to the dead-letter topic). Host errors map to one or the
other the way the Rust SDK maps them; any other exception is a trap: the
event is retried on a fresh instance and its traceback reaches the
dead-letter reason.

Outbound HTTP (``sp.http.get/post/...``) goes to the manifest's
``allowed_hosts`` only, and needs the ``plugin-http`` world. Wrap a call
that must happen once per event (an SMS, a CRM case) in
``sp.journal.run(step, lambda key: ...)``. A command processor refuses
the command it handles with ``sp.command.refuse_conflict(reason)`` or
``sp.command.refuse_invalid(reason)``. ``sp.timer.schedule_json(name,
after_ms, payload)`` wakes the plugin later for the event's key (the
event's ``timer_name`` then names the timer).

Build with componentize-py against the gateway's ``wit/``::

    componentize-py -d wit -w plugin componentize app -p sdk/python -p . -o plugin.wasm
    componentize-py -d wit -w plugin-http componentize app ...   # with sp.http
"""

from . import command, config, http, journal, kv, log, packed, settings, timer, vocabulary
from .errors import HostError, Reject, Retry
from .event import Event
from .export import Plugin, export
from .publish import publish
from .push import push

__all__ = [
    "Event",
    "HostError",
    "Plugin",
    "Reject",
    "Retry",
    "command",
    "config",
    "export",
    "http",
    "journal",
    "kv",
    "log",
    "packed",
    "publish",
    "push",
    "settings",
    "timer",
    "vocabulary",
]
