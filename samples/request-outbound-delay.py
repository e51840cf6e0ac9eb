"""request-outbound-delay: the app is pushed a notice when an agent is ready, asks `status` for the confirmation,
and asks to be called now."""

from mobile_app import Comet, agent_ready, ask, expect_busy, service, wait_end

app = Comet("carol")
reply = service("request-outbound-delay", _phone_number="5557777", _device_os="comet", _device_id="carol",
                _poll_interval="1")
agent_ready("agent1")
push = app.wait()
assert push["_action"] == "status" and push["_id"] == reply["_id"], push
dialog = ask(reply["_id"], push["_action"])  # the push names the request to post: status
assert dialog["_action"] == "ConfirmationDialog", dialog
print("dialog:", dialog["_text"])
answer = ask(reply["_id"], "connect")  # or "cancel" to decline
assert answer["_action"] == "Message", answer
wait_end(reply["_id"])
expect_busy("agent1")
