"""An independent, standards-following WebSocket client (Python `websockets`)
for the interop tests: connect to URL and print the close code and reason
the server ends the session with, as JSON. Exit 2 if the library fails the
connection instead (e.g. a close frame breaking RFC 6455)."""

import asyncio
import json
import sys

import websockets


async def main(url: str) -> int:
    try:
        async with websockets.connect(url, open_timeout=30) as ws:
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), timeout=30)
            except websockets.ConnectionClosed as closed:
                rcvd = closed.rcvd
                print(json.dumps({"code": rcvd.code if rcvd else None,
                                  "reason": rcvd.reason if rcvd else None}))
                return 0
    except websockets.InvalidStatus as refused:
        print(json.dumps({"status": refused.response.status_code}))
        return 0
    except Exception as error:  # the library refused what the server sent
        print(json.dumps({"failed": repr(error)}))
        return 2


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
