"""request-outbound-poll: the app polls `status` until it is asked to confirm, then asks to be called now."""

from mobile_app import agent_ready, ask, expect_busy, poll, service, wait_end

reply = service("request-outbound-poll", _phone_number="5557777")
wait = ask(reply["_id"], "status")
assert wait["_action"] == "Message", wait
agent_ready("agent1")
dialog = poll(reply["_id"], lambda answer: answer.get("_action") == "ConfirmationDialog")
answer = ask(reply["_id"], "connect")  # or "cancel" to decline
assert answer["_action"] == "Message", answer
wait_end(reply["_id"])
expect_busy("agent1")
