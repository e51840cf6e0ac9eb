// Plays a chat in the Chat API's CometD mode with the npm CometD client, as a mobile app does: handshake as a
// gms_user, subscribe to /_genesys, then create a request-chat service and its chat with notify_by=comet. Prints
// one line per chat message received ("entry <position> <eventType> <text>"). After the agent's text "one" it sends
// /meta/disconnect with ext.transcriptPosition, prints "disconnected <position>", waits for a line on standard
// input, handshakes again and resumes; it exits after the agent's text "three".
// Usage: node chat.mjs <base url> <gms_user>
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";
import * as readline from "node:readline";

adapt();

const [base, user] = process.argv.slice(2);
const lines = readline.createInterface({ input: process.stdin });
let cometd;
let position = 0;
let created = false;

function connect() {
  cometd = new CometD();
  cometd.unregisterTransport("websocket");
  cometd.configure({ url: `${base}/genesys/cometd`, requestHeaders: { gms_user: user }, logLevel: "warn" });
  cometd.addListener("/meta/handshake", (reply) => {
    if (!reply.successful) {
      return;
    }
    cometd.subscribe("/_genesys", onMessage, async () => {
      if (!created) {
        created = true;
        await createChat();
      }
    });
  });
  cometd.handshake({ ext: { gms_user: user } });
}

async function post(path, form) {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { gms_user: user, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  return response.json();
}

async function createChat() {
  const service = await post("/genesys/1/service/request-chat", {});
  const chat = await post(`/genesys/1/service/${service._id}/ixn/chat`, { notify_by: "comet", userDisplayName: "Ann" });
  console.log(`created ${service._id} ${chat.chatIxnState}`);
}

function onMessage(message) {
  const state = message.data.message;
  if (!state || !state.transcriptToShow) {
    return;
  }
  // Entries are numbered from transcriptPosition backwards.
  const entries = state.transcriptToShow;
  entries.forEach((entry, index) => {
    const number = state.transcriptPosition - entries.length + index;
    console.log(`entry ${number} ${entry[0]} ${entry[2]}`);
    if (number >= position) {
      position = number + 1;
    }
    if (entry[0] === "Message.Text" && entry[2] === "one") {
      cometd.disconnect({ ext: { transcriptPosition: String(position) } }, () => {
        console.log(`disconnected ${position}`);
        lines.once("line", () => connect());
      });
    }
    if (entry[0] === "Message.Text" && entry[2] === "three") {
      console.log("done");
      process.exit(0);
    }
  });
}

connect();
