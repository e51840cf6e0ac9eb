"""request-chat-poll: the app starts a chat through the service; the flow routes it to an agent, and the chat runs
through GMS's Chat API on the service's `_id` until the agent leaves."""

from mobile_app import agent_chat, agent_joined, agent_ready, ask, chat, expect_busy, poll, service, wait_end

reply = service("request-chat-poll", _chat_parameters='{"subject": "billing"}', first_name="Dan")
assert reply["_action"] == "StartChat", reply
assert reply["_chat_parameters"] == {"subject": "billing"}, reply
service_id = reply["_id"]
ask(service_id, "status")  # "starting": no chat yet
chat_url = reply["_start_chat_url"]
state = chat(chat_url, userDisplayName="Dan", subject="billing")
assert state["chatIxnState"] == "CONNECTED", state
poll(service_id, lambda answer: answer.get("_status") == "waiting", every=0.2)
agent_ready("agent1")
routed = poll(service_id, lambda answer: answer.get("_status") == "routed", every=0.2)
print("chat routed to", routed["_agent"])
expect_busy("agent1")
agent_joined("agent1", service_id)
chat(chat_url + "/refresh", message="Hello, a question about my bill")
agent_chat("agent1", service_id, "send", message="Hello Dan, let me look")
state = chat(chat_url + "/refresh")
assert any(entry[2] == "Hello Dan, let me look" for entry in state["transcriptToShow"]), state
agent_chat("agent1", service_id, "leave")
state = chat(chat_url + "/refresh")
assert state["chatIxnState"] == "DISCONNECTED", state
ask(service_id, "cancel")  # the app is done with the service
wait_end(service_id)
