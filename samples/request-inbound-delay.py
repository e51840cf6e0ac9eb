"""request-inbound-delay: the app waits for a push saying an agent is ready, then asks for the number (connect)."""

from mobile_app import Comet, agent_ready, ask, dial, expect_busy, service, wait_end

app = Comet("ann")  # the app's CometD connection, as gms_user "ann"
reply = service("request-inbound-delay", _phone_number="5551234", _device_os="comet", _device_id="ann",
                _poll_interval="1")
wait = ask(reply["_id"], "status")  # the app may also ask: all agents busy, with the estimated wait in _ewt
assert wait["_action"] == "Message", wait
agent_ready("agent2")
push = app.wait()  # the flow checks agent availability every _poll_interval seconds, then publishes ors.contact.<id>
assert push["_action"] == "connect" and push["_id"] == reply["_id"], push
answer = ask(reply["_id"], push["_action"])  # the push names the request to post: connect
assert answer["_action"] == "DialNumber", answer
dial(answer["_tel_url"], "5551234", answer.get("_access_code", ""))
wait_end(reply["_id"])
expect_busy("agent2")
