"""Log lines into the gateway's log and the plugin's log book, tagged with
the plugin, its version and the event being handled."""

from ._bindings import log as wit_log


def _log(level_name: str, message: str) -> None:
    wit_log.log(getattr(wit_log.Level, level_name), str(message))


def trace(message: str) -> None:
    _log("TRACE", message)


def debug(message: str) -> None:
    _log("DEBUG", message)


def info(message: str) -> None:
    _log("INFO", message)


def warn(message: str) -> None:
    _log("WARN", message)


def error(message: str) -> None:
    _log("ERROR", message)
