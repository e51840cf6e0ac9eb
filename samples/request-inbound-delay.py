"""request-inbound-delay: the app waits for a push saying an agent is ready, then asks for the number (connect)."""

from mobile_app import agent_ready, ask, dial, pause, service

reply = service("request-inbound-delay", _phone_number="5551234", _device_id="device-1", _poll_interval="1")
agent_ready("agent2")
pause(2)  # the flow checks agent availability every _poll_interval seconds, then publishes ors.contact.<id>
answer = ask(reply["_id"], "connect")
dial(answer["_tel_url"], "5551234", answer.get("_access_code", ""))
