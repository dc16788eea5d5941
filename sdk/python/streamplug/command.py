"""Decide a command. A plugin that lists a command type in its manifest's
``commands`` is its one processor: returning normally from ``handle``
accepts it (the events published while handling it are the sender's
answer); calling ``refuse_conflict`` or ``refuse_invalid`` and then
returning refuses it with a reason. A refused command's publishes and
pushes are dropped and its KV writes kept."""

from componentize_py_types import Err

from ._bindings import command as wit_command
from .errors import from_wit


def _refuse(refusal: object, reason: str) -> None:
    try:
        wit_command.refuse(refusal, reason)
    except Err as e:
        raise from_wit("refuse the command", e.value) from None


def refuse_conflict(reason: str) -> None:
    """Refuse the command being handled: it conflicts with the state it acts
    on (the sender gets ``409 Conflict`` with ``reason``)."""
    _refuse(wit_command.Refusal.CONFLICT, reason)


def refuse_invalid(reason: str) -> None:
    """Refuse the command being handled: it is not acceptable as sent (the
    sender gets ``422 Unprocessable Content`` with ``reason``)."""
    _refuse(wit_command.Refusal.INVALID, reason)
