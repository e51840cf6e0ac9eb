"""request-inbound-immediate: the app asks for a number to call now, the customer dials it, an agent answers."""

from mobile_app import agent_ready, dial, expect_busy, service, wait_end

reply = service("request-inbound-immediate", _phone_number="5551234", first_name="Ann")
assert reply["_action"] == "DialNumber", reply
dial(reply["_tel_url"], "5551234", reply.get("_access_code", ""))
agent_ready("agent1")  # the call waits in queue (with music) until an agent is ready
wait_end(reply["_id"])  # routed: the flow ends, and GMS forgets the service
expect_busy("agent1")
