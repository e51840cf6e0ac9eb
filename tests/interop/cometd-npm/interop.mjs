// Drives the npm CometD client against gms: handshake as a gms_user, subscribe to /_genesys, print each
// notification, handshake and subscribe again whenever the server drops the client, disconnect after two.
// Usage: COMETD_TRANSPORT=<websocket|long-polling> [COMETD_NOTIFICATIONS=N] node interop.mjs <cometd url> <gms_user>
// (N: how many notifications before it disconnects, default 2).
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";

adapt();

const [url, user] = process.argv.slice(2);
const transport = process.env.COMETD_TRANSPORT ?? "websocket";
const cometd = new CometD();
if (transport === "long-polling") {
  cometd.unregisterTransport("websocket");
} else {
  cometd.unregisterTransport("long-polling");
}
cometd.configure({ url, requestHeaders: { gms_user: user }, logLevel: process.env.COMETD_LOG ?? "warn" });

let received = 0;
cometd.addListener("/meta/handshake", (reply) => {
  if (!reply.successful) {
    return;
  }
  // A new handshake clears the client's subscriptions, so they are made again every time.
  cometd.subscribe("/_genesys", onNotification, (subscribed) => {
    const used = cometd.getTransport();
    const type = typeof used.getType === "function" ? used.getType() : (used.type ?? transport);
    console.log(`subscribed ${subscribed.successful} ${type}`);
  });
});

function onNotification(message) {
  console.log(`received ${message.data.message}`);
  received += 1;
  if (received === Number(process.env.COMETD_NOTIFICATIONS ?? 2)) {
    cometd.disconnect((reply) => {
      console.log(`disconnected ${reply.successful}`);
      process.exit(0);
    });
  }
}

cometd.handshake({ ext: { gms_user: user } });
