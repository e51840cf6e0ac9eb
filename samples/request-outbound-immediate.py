"""request-outbound-immediate: the app asks to be called now; the contact center calls and routes the call."""

from mobile_app import agent_ready, expect_busy, service, wait_end

reply = service("request-outbound-immediate", _phone_number="5557777")
assert reply["_action"] == "Message", reply
agent_ready("agent1")  # the answered call is routed to the agent
wait_end(reply["_id"])
expect_busy("agent1")
