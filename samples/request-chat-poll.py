"""request-chat-poll: the app starts a chat through the service and polls `status` until an agent has it."""

from mobile_app import agent_ready, ask, expect_busy, poll, service, start_chat, wait_end

reply = service("request-chat-poll", _chat_parameters='{"subject": "billing"}', first_name="Dan")
assert reply["_action"] == "StartChat", reply
assert reply["_chat_parameters"] == {"subject": "billing"}, reply
ask(reply["_id"], "status")  # "starting": the chat has not reached the flow yet
start_chat(reply["_id"], subject="billing")
poll(reply["_id"], lambda answer: answer.get("_status") == "waiting", every=0.2)
agent_ready("agent1")
routed = poll(reply["_id"], lambda answer: answer.get("_status") == "routed", every=0.2)
print("chat routed to", routed["_agent"])
expect_busy("agent1")
ask(reply["_id"], "cancel")  # the app is done with the service
wait_end(reply["_id"])
