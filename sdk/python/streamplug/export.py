"""Turns a plugin class into the ``Handler`` export componentize-py wants."""

import traceback
from typing import Any, Dict, Optional

from componentize_py_types import Err

from ._bindings import handler as wit_handler
from .errors import HostError, Reject, Retry
from .event import Event
from .settings import parse


class Plugin:
    """Base class of a plugin: override ``handle`` (and ``init`` if it
    needs its config).

    Set ``Config`` to a dataclass and ``init`` gets the config values read
    into it (see ``streamplug.settings``); without one it gets them as a
    dict of strings."""

    Config: Optional[type] = None

    def init(self, config: Any) -> None:
        """Called once on every new instance with its config: a ``Config``
        instance, or the values as a dict. Raise an exception to refuse the
        instance (and, at load time, the plugin version)."""

    def handle(self, event: Event) -> None:
        raise NotImplementedError("a plugin implements handle(self, event)")


def export(plugin_class: type) -> type:
    """The ``Handler`` class of the component: ``Handler = export(MyPlugin)``."""
    class Handler:
        _plugin = None

        def init(self, config) -> None:
            try:
                values: Dict[str, str] = dict(config)
                typed = values if plugin_class.Config is None else parse(plugin_class.Config, values)
                Handler._plugin = plugin_class()
                Handler._plugin.init(typed)
            except Exception as e:  # refused: the reason goes back to the host
                raise Err(f"{type(e).__name__}: {e}") from None

        def handle(self, event) -> None:
            plugin = Handler._plugin
            if plugin is None:
                plugin = Handler._plugin = plugin_class()
            try:
                plugin.handle(Event(event))
            except Retry as e:
                raise Err(wit_handler.HandleError_Retry(str(e))) from None
            except Reject as e:
                raise Err(wit_handler.HandleError_Reject(str(e))) from None
            except HostError as e:
                case = wit_handler.HandleError_Retry if e.retry else wit_handler.HandleError_Reject
                raise Err(case(str(e))) from None
            except Err:
                raise
            except Exception:
                # A bug: trap, with the traceback on stderr for the
                # dead-letter reason.
                traceback.print_exc()
                raise

    return Handler
