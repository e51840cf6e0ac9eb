"""request-chat: the basic chat service. The app creates the service and its chat, an agent of the Chat group
takes it, messages go both ways, and the customer leaves."""

from mobile_app import agent_chat, agent_joined, agent_ready, chat, service

reply = service("request-chat", _verbose="true", MSISDN="5551234")
service_id = reply["_id"]
chat_url = reply["_chatIxnAPI-CREATE-URL"]
state = chat(chat_url, userDisplayName="Ann", subject="my order", _verbose="true")
assert state["chatIxnState"] == "CONNECTED", state
agent_ready("agent1")  # the chat waits in the Chat queue until an agent is ready
agent_joined("agent1", service_id)
chat(state["_chatIxnAPI_SEND_URL"], message="Where is my order?")
agent_chat("agent1", service_id, "typing", typing="true")
agent_chat("agent1", service_id, "send", message="It ships tomorrow")
state = chat(state["_chatIxnAPI_REFRESH_URL"])
assert any(entry[2] == "It ships tomorrow" and entry[4] == "AGENT" for entry in state["transcriptToShow"]), state
state = chat(chat_url + "/disconnect")
assert state["chatIxnState"] == "DISCONNECTED", state
print("chat ended")
