"""The componentize-py bindings of the world the plugin is built against,
imported together with the SDK. componentize-py snapshots the interpreter
after importing the app: a binding module imported only later, inside a
handler, is not in the component (which has no file system to load it
from), so every one the SDK uses is imported here, at build time.

Outside a component build (an editor, a type checker) the names are None.
"""

try:
    from wit_world.exports import handler
    from wit_world.imports import command, config, journal, kv, log, producer, push, timer
except ImportError:  # not being componentized
    handler = command = config = journal = kv = log = producer = push = timer = None

try:  # only in the `plugin-http` world
    from wit_world.imports import outgoing_handler, streams, wasi_http_types
except ImportError:
    outgoing_handler = streams = wasi_http_types = None
