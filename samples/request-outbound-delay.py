"""request-outbound-delay: the app is pushed a confirmation when an agent is ready, and asks to be called now."""

from mobile_app import Comet, agent_ready, ask, service

app = Comet("carol")
reply = service("request-outbound-delay", _phone_number="5557777", _device_os="comet", _device_id="carol",
                _poll_interval="1")
agent_ready("agent1")
push = app.wait()
assert push["_action"] == "ConfirmationDialog", push
print("dialog:", push["_text"])
answer = ask(reply["_id"], "connect")  # or "cancel" to decline
assert answer["_action"] == "Message", answer
