"""Turns a plugin class into the ``Handler`` export componentize-py wants."""

import traceback
from typing import Dict

from componentize_py_types import Err

from ._bindings import handler as wit_handler
from .errors import HostError, Reject, Retry
from .event import Event


class Plugin:
    """Base class of a plugin: override ``handle`` (and ``init`` if it
    needs its config)."""

    def init(self, config: Dict[str, str]) -> None:
        """Called once on every new instance with the manifest's config
        values. Raise an exception to refuse the instance (and, at load time,
        the plugin version)."""

    def handle(self, event: Event) -> None:
        raise NotImplementedError("a plugin implements handle(self, event)")


def export(plugin_class: type) -> type:
    """The ``Handler`` class of the component: ``Handler = export(MyPlugin)``."""
    class Handler:
        _plugin = None

        def init(self, config) -> None:
            try:
                Handler._plugin = plugin_class()
                Handler._plugin.init(dict(config))
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
