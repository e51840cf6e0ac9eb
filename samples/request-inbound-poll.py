"""request-inbound-poll: the app polls `status` until an agent is ready, then dials the number it is given."""

from mobile_app import agent_ready, ask, dial, expect_busy, poll, service, wait_end

reply = service("request-inbound-poll", _phone_number="5551234", first_name="Ann")
wait = ask(reply["_id"], "status")
assert wait["_action"] == "Message", wait  # all agents busy, with the estimated wait in _ewt
agent_ready("agent2")
answer = poll(reply["_id"], lambda answer: answer.get("_action") == "DialNumber")
dial(answer["_tel_url"], "5551234", answer.get("_access_code", ""))
wait_end(reply["_id"])
expect_busy("agent2")
