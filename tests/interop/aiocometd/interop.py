"""Drives the aiocometd client against gms: handshake as a gms_user, subscribe to /_genesys, print each
notification (aiocometd handshakes and subscribes again by itself when the server drops it), leave after two.

Usage: COMETD_TRANSPORT=<websocket|long-polling> python3 interop.py <cometd url> <gms_user>
"""

import asyncio
import os
import sys

# aiocometd 0.4.5 passes `loop=` to asyncio and fails on Python 3.10+; aiocometd-noloop is the same client with
# that fixed, under its own module name.
from aiocometd_noloop import Client, ConnectionType
from aiocometd_noloop.extensions import Extension


class GmsUser(Extension):
    """Names the gms_user on every transport request and in the handshake's ext."""

    def __init__(self, user):
        self.user = user

    async def outgoing(self, payload, headers):
        headers["gms_user"] = self.user
        for message in payload:
            if message.get("channel") == "/meta/handshake":
                message.setdefault("ext", {})["gms_user"] = self.user

    async def incoming(self, payload, headers=None):
        pass


async def main(url, user, transport):
    kind = ConnectionType.LONG_POLLING if transport == "long-polling" else ConnectionType.WEBSOCKET
    received = 0
    async with Client(url, connection_types=[kind], extensions=[GmsUser(user)]) as client:
        await client.subscribe("/_genesys")
        print(f"subscribed true {kind.value}", flush=True)
        async for message in client:
            print(f"received {message['data']['message']}", flush=True)
            received += 1
            if received == 2:
                break
    print("disconnected true", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], os.environ.get("COMETD_TRANSPORT", "websocket")))
