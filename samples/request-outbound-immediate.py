"""request-outbound-immediate: the app asks to be called now; the contact center calls and routes the call."""

from mobile_app import agent_ready, service

reply = service("request-outbound-immediate", _phone_number="5557777")
assert reply["_action"] == "Message"
agent_ready("agent1")
