"""Plays the mobile app against a running `gms serve` (standard library only): helpers the per-flow scripts share.

Public API on GMS_PUBLIC (default http://127.0.0.1:8080); the simulated contact center is steered on the internal
listener GMS_INTERNAL (default http://127.0.0.1:8081).
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


def post(base, path, **params):
    """POSTs a form; returns (status, JSON body)."""
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(base + path, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
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


def agent_ready(agent):
    """Tells the simulated contact center that `agent` is ready now."""
    show(f"agent {agent} ready", *post(INTERNAL, f"/genesys/1/contact-center/agents/{agent}/ready"))


def dial(number, ani, code=""):
    """The customer dials the access number."""
    number = number.removeprefix("tel:")
    query = urllib.parse.urlencode({"dnis": number, "ani": ani, "access_code": code})
    show(f"dial {number}", *post(INTERNAL, f"/genesys/1/contact-center/calls?{query}"))


def show(what, status, body):
    print(f"{what}: {status} {json.dumps(body)}")
    if status >= 400:
        sys.exit(1)


def pause(seconds):
    time.sleep(seconds)
