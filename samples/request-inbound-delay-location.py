"""request-inbound-delay-location: as request-inbound-delay, with the phone's position; the flow adds the place to
the user data (and would book a number of the customer's country when _resource_groups names a group for it)."""

from mobile_app import Comet, agent_ready, ask, dial, expect_busy, service, user_data, wait_end

app = Comet("bob")
reply = service("request-inbound-delay-location", _phone_number="5551234", _lat="48.8566", _long="2.3522",
                _device_os="comet", _device_id="bob", _poll_interval="1", first_name="Bob")
agent_ready("agent2")
push = app.wait()
assert push["_action"] == "connect", push
print("location:", user_data(reply["_data_id"]).get("location"))
answer = ask(reply["_id"], push["_action"])
assert answer["_action"] == "DialNumber", answer
dial(answer["_tel_url"], "5551234", answer.get("_access_code", ""))
wait_end(reply["_id"])
expect_busy("agent2")
