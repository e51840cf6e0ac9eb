"""Plays the mobile app against a running `gms serve` (standard library only): helpers the per-flow scripts share.

Public API on GMS_PUBLIC (default http://127.0.0.1:8080); the simulated contact center is steered on the internal
listener GMS_INTERNAL (default http://127.0.0.1:8081). Notifications reach the app over CometD
(`/genesys/cometd`, channel `/_genesys`) as the `gms_user` the app names in `_device_id` with `_device_os=comet`.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PUBLIC = os.environ.get("GMS_PUBLIC", "http://127.0.0.1:8080")
INTERNAL = os.environ.get("GMS_INTERNAL", "http://127.0.0.1:8081")
# How long the scripts wait for something the server does on its own (a push, an agent found).
PATIENCE = 60


def post(base, path, **params):
    """POSTs a form; returns (status, JSON body)."""
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(base + path, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    return _send(request)


def get(base, path):
    """GETs; returns (status, JSON body)."""
    return _send(urllib.request.Request(base + path, method="GET"))


def _send(request, timeout=10):
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def service(name, **params):
    """Creates an instance of service `name`, as the app does."""
    status, body = post(PUBLIC, f"/genesys/1/service/{name}", **params)
    show(f"create {name}", status, body)
    return body


def ask(service_id, request, **params):
    """Sends a request (`connect`, `status`, `cancel`...) to a service instance."""
    status, body = post(PUBLIC, f"/genesys/1/service/{service_id}/{request}", **params)
    show(request, status, body)
    return body


def poll(service_id, done, every=1.0):
    """Asks `status` every `every` seconds until `done(answer)` holds; returns that answer."""
    deadline = time.monotonic() + PATIENCE
    while True:
        answer = ask(service_id, "status")
        if done(answer):
            return answer
        if time.monotonic() > deadline:
            sys.exit("the service never got there")
        time.sleep(every)


def wait_end(service_id, every=0.05):
    """Waits (at most PATIENCE seconds) until the service's flow has ended: GMS then forgets the instance (404)."""
    deadline = time.monotonic() + PATIENCE
    while True:
        status, body = get(PUBLIC, f"/genesys/1/service/{service_id}")
        if status == 404:
            print(f"service {service_id} ended")
            return
        if status != 200:
            sys.exit(f"service {service_id}: {status} {body}")
        if time.monotonic() > deadline:
            sys.exit(f"service {service_id} never ended: {body}")
        time.sleep(every)


def expect_busy(agent):
    """Checks that the simulated contact center gave `agent` the work: busy, and nothing waiting in queue."""
    status, body = get(INTERNAL, "/genesys/1/contact-center")
    state = next((entry["state"] for entry in body.get("agents", []) if entry["id"] == agent), None)
    if status != 200 or state != "busy" or body.get("waiting") != 0:
        sys.exit(f"{agent} was not given the work: {status} {body}")
    print(f"agent {agent} busy")


def user_data(data_id):
    """The service's user data in GMS storage."""
    status, body = get(PUBLIC, f"/genesys/1/storage/{data_id}")
    show("user data", status, body)
    return body


def agent_ready(agent):
    """Tells the simulated contact center that `agent` is ready now."""
    show(f"agent {agent} ready", *post(INTERNAL, f"/genesys/1/contact-center/agents/{agent}/ready"))


def dial(number, ani, code=""):
    """The customer dials the access number."""
    number = number.removeprefix("tel:")
    query = urllib.parse.urlencode({"dnis": number, "ani": ani, "access_code": code})
    show(f"dial {number}", *post(INTERNAL, f"/genesys/1/contact-center/calls?{query}"))


def chat(path, **params):
    """A Chat API call of the app (`path` under the service's `ixn/chat`, e.g. `/refresh`); returns the chat state."""
    status, body = post(PUBLIC, path, **params)
    show(f"chat {path.rsplit('/ixn/chat', 1)[-1] or 'create'}", status, body)
    return body


def agent_chat(agent, service_id, operation, **params):
    """What the agent does in the chat of `service_id` on its desktop: `send`, `typing`, `leave`."""
    status, body = post(INTERNAL, f"/genesys/1/contact-center/agents/{agent}/chats/{service_id}/{operation}", **params)
    show(f"agent {agent} {operation}", status, body)
    return body


def agent_joined(agent, service_id):
    """Waits until `agent` has joined the chat of `service_id`."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        _, body = get(INTERNAL, f"/genesys/1/contact-center/agents/{agent}/chats")
        if any(chat.get("_id") == service_id for chat in (body or {}).get("chats", [])):
            print(f"agent {agent} joined the chat")
            return
        time.sleep(0.1)
    raise SystemExit(f"{agent} never joined the chat of {service_id}")


class Comet:
    """The app's CometD connection (Bayeux long-polling) as `gms_user` `user`, subscribed to `/_genesys`."""

    def __init__(self, user):
        self.user = user
        reply = self._batch([{"channel": "/meta/handshake", "version": "1.0",
                              "supportedConnectionTypes": ["long-polling"]}])
        if not reply[0].get("successful"):
            sys.exit(f"CometD handshake failed: {reply}")
        self.client_id = reply[0]["clientId"]
        reply = self._batch([{"channel": "/meta/subscribe", "clientId": self.client_id,
                              "subscription": "/_genesys"}])
        if not reply[0].get("successful"):
            sys.exit(f"CometD subscribe failed: {reply}")

    def _batch(self, messages, timeout=10):
        request = urllib.request.Request(PUBLIC + "/genesys/cometd", data=json.dumps(messages).encode(),
                                         method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("gms_user", self.user)
        status, body = _send(request, timeout)
        if status != 200:
            sys.exit(f"CometD: {status} {body}")
        return body

    def wait(self):
        """Long-polls until a notification arrives; returns its message (parsed when it is JSON)."""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            connect = {"channel": "/meta/connect", "clientId": self.client_id, "connectionType": "long-polling"}
            # The server holds a connect for up to 30 seconds.
            for message in self._batch([connect], timeout=45):
                if message.get("channel") == "/_genesys":
                    data = message["data"]
                    print(f"push on {data.get('tag')}: {data.get('message')}")
                    try:
                        return json.loads(data["message"])
                    except (TypeError, ValueError):
                        return data["message"]
        sys.exit("no notification arrived")


def show(what, status, body):
    print(f"{what}: {status} {json.dumps(body)}")
    if status >= 400:
        sys.exit(1)


def pause(seconds):
    time.sleep(seconds)
