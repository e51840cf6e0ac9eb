"""request-inbound-immediate: the app asks for a number to call now, the customer dials it, an agent answers."""

from mobile_app import agent_ready, dial, service

reply = service("request-inbound-immediate", _phone_number="5551234", first_name="Ann")
assert reply["_action"] == "DialNumber"
dial(reply["_tel_url"], "5551234", reply.get("_access_code", ""))
agent_ready("agent1")
