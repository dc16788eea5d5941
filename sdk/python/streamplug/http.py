"""Outbound HTTP to the hosts the manifest grants (``allowed_hosts``), over
the standard ``wasi:http/outgoing-handler``. The gateway attaches the
credentials configured for a host (a Salesforce token, an Infobip API key):
the plugin never sees them.

A plugin that calls HTTP builds against the ``plugin-http`` world::

    componentize-py -d wit -w plugin-http componentize app -p sdk/python -p . -o plugin.wasm

and calls::

    answer = sp.http.post("https://crm.example.com/v1/cases", json={"subject": "..."})
    answer.raise_for_status()          # 5xx and 429 -> Retry, other 4xx -> Reject
    case_id = answer.json()["id"]

Calls block the handler until the answer is in (a plugin handles one event
at a time). A call the gateway refuses (a host not granted) raises a
``HostError`` that rejects the event; a transport failure (refused
connection, timeout) one that retries it.
"""

import json as _json
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from componentize_py_types import Err, Ok

from ._bindings import outgoing_handler, streams, wasi_http_types
from .errors import HostError, from_wit, http_code_retries, status_retries, wit_case

# Largest chunk `blocking-write-and-flush` takes at once.
_WRITE_CHUNK = 4096
_READ_CHUNK = 65536


class Response:
    """An HTTP answer: ``status``, ``headers`` (lower-case names, values
    joined with ``", "``) and the whole ``body``."""

    def __init__(self, method: str, url: str, status: int, headers: Dict[str, str], body: bytes):
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return _json.loads(self.body)

    def raise_for_status(self) -> "Response":
        """This response if it is 2xx; otherwise a ``HostError`` that retries
        the event for a 5xx or 429 and rejects it for any other status."""
        if self.ok:
            return self
        retry = status_retries(self.status)
        detail = self.text()[:200]
        raise HostError(f"{self.method} {self.url}", f"status-{self.status}", detail, retry)

    def __repr__(self) -> str:
        return f"<Response {self.status} from {self.method} {self.url}>"


def request(
    method: str,
    url: str,
    *,
    headers: Optional[Mapping[str, str]] = None,
    body: Optional[bytes] = None,
    json: Any = None,
    timeout: Optional[float] = None,
) -> Response:
    """Send ``method url`` with ``headers`` and a ``body`` (or ``json``, sent
    as ``application/json``) and wait for the whole answer; ``timeout`` (in
    seconds) bounds the wait for its first byte."""
    what = f"{method} {url}"
    fields = [(name.lower(), str(value).encode()) for name, value in (headers or {}).items()]
    if json is not None:
        body = _json.dumps(json, separators=(",", ":")).encode()
        if not any(name == "content-type" for name, _ in fields):
            fields.append(("content-type", b"application/json"))
    try:
        return _send(what, method, url, fields, body, timeout)
    except Err as e:
        raise _host_error(what, e.value) from None


def get(url: str, **kwargs: Any) -> Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> Response:
    return request("POST", url, **kwargs)


def put(url: str, **kwargs: Any) -> Response:
    return request("PUT", url, **kwargs)


def patch(url: str, **kwargs: Any) -> Response:
    return request("PATCH", url, **kwargs)


def delete(url: str, **kwargs: Any) -> Response:
    return request("DELETE", url, **kwargs)


def _send(what, method, url, fields, body, timeout) -> Response:
    t = wasi_http_types
    if outgoing_handler is None:
        raise HostError(
            what, "http-not-imported", "build the plugin against the `plugin-http` world (-w plugin-http)", False
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HostError(what, "invalid-url", "an absolute http or https URL is needed", False)
    outgoing = t.OutgoingRequest(t.Fields.from_list(fields))
    outgoing.set_method(_method(t, method.upper()))
    outgoing.set_scheme(t.Scheme_Https() if parts.scheme == "https" else t.Scheme_Http())
    outgoing.set_authority(parts.netloc)
    outgoing.set_path_with_query(parts.path + ("?" + parts.query if parts.query else "") or "/")
    outgoing_body = outgoing.body()
    options = None
    if timeout is not None:
        options = t.RequestOptions()
        options.set_first_byte_timeout(int(timeout * 1_000_000_000))
    future = outgoing_handler.handle(outgoing, options)
    if body:
        with outgoing_body.write() as stream:
            for start in range(0, len(body), _WRITE_CHUNK):
                stream.blocking_write_and_flush(body[start : start + _WRITE_CHUNK])
    t.OutgoingBody.finish(outgoing_body, None)
    with future:
        incoming = _wait(future)
    with incoming:
        status = incoming.status()
        with incoming.headers() as answer_fields:
            answer_headers = _headers(answer_fields.entries())
        answer_body = _read_all(incoming.consume())
    return Response(method.upper(), url, status, answer_headers, answer_body)


def _method(t, method: str):
    cases = {
        "GET": t.Method_Get,
        "HEAD": t.Method_Head,
        "POST": t.Method_Post,
        "PUT": t.Method_Put,
        "DELETE": t.Method_Delete,
        "OPTIONS": t.Method_Options,
        "PATCH": t.Method_Patch,
    }
    case = cases.get(method)
    return case() if case else t.Method_Other(method)


def _wait(future):
    """The response of ``future``, blocking until it is ready."""
    while True:
        ready = future.get()
        if ready is not None:
            break
        with future.subscribe() as pollable:
            pollable.block()
    if isinstance(ready, Err):  # taken already: cannot happen here
        raise Err(ready.value)
    answer = ready.value
    if isinstance(answer, Ok):
        return answer.value
    raise Err(answer.value)


def _read_all(incoming_body) -> bytes:
    chunks = []
    with incoming_body:
        with incoming_body.stream() as stream:
            while True:
                try:
                    chunks.append(stream.blocking_read(_READ_CHUNK))
                except Err as e:
                    if isinstance(e.value, streams.StreamError_Closed):
                        break
                    raise
    return b"".join(chunks)


def _headers(entries: List[Tuple[str, bytes]]) -> Dict[str, str]:
    headers: Dict[str, str] = {}
    for name, value in entries:
        text = bytes(value).decode("latin-1")
        headers[name] = f"{headers[name]}, {text}" if name in headers else text
    return headers


def _host_error(what: str, error: object) -> HostError:
    return from_wit(what, error, retry=http_code_retries(wit_case(error)))
