// A bare long-poll echo in Node: just enough Bayeux (handshake, subscribe, held connect, publish echoed to the
// channel's subscribers) to be the floor against which the benchmark compares gms's CometD server.
// Usage: node echo-server.mjs   (prints the port it listens on, 127.0.0.1)
import http from "node:http";

const clients = new Map(); // clientId -> { queue: [], waiter: null, subscriptions: Set }
let next = 0;

function flush(client) {
  if (client.waiter && client.queue.length > 0) {
    const { respond, timer } = client.waiter;
    clearTimeout(timer);
    client.waiter = null;
    respond(client.queue.splice(0));
  }
}

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    res.setHeader("content-type", "application/json");
    const replies = [];
    let held = null;
    for (const m of JSON.parse(body)) {
      const base = { channel: m.channel, id: m.id, successful: true };
      if (m.channel === "/meta/handshake") {
        const clientId = String(++next);
        clients.set(clientId, { queue: [], waiter: null, subscriptions: new Set() });
        replies.push({ ...base, clientId, version: "1.0", supportedConnectionTypes: ["long-polling"], advice: { reconnect: "retry", interval: 0, timeout: 30000 } });
      } else if (m.channel === "/meta/subscribe") {
        clients.get(m.clientId)?.subscriptions.add(m.subscription);
        replies.push({ ...base, clientId: m.clientId, subscription: m.subscription });
      } else if (m.channel === "/meta/connect") {
        const client = clients.get(m.clientId);
        const reply = { ...base, clientId: m.clientId, advice: { reconnect: "retry", interval: 0, timeout: 30000 } };
        if (!client || m.advice?.timeout === 0 || client.queue.length > 0) {
          replies.push(reply, ...(client ? client.queue.splice(0) : []));
        } else {
          held = { client, reply };
        }
      } else if (m.channel === "/meta/disconnect") {
        clients.delete(m.clientId);
        replies.push(base);
      } else if (!m.channel.startsWith("/meta/")) {
        for (const client of clients.values()) {
          if (client.subscriptions.has(m.channel)) {
            client.queue.push({ channel: m.channel, data: m.data });
            flush(client);
          }
        }
        replies.push(base);
      } else {
        replies.push(base);
      }
    }
    if (held) {
      const { client, reply } = held;
      const respond = (deliveries) => res.end(JSON.stringify([...replies, reply, ...deliveries]));
      const timer = setTimeout(() => {
        client.waiter = null;
        respond([]);
      }, 30000);
      client.waiter = { respond, timer };
      flush(client);
    } else {
      res.end(JSON.stringify(replies));
    }
  });
});

server.listen(0, "127.0.0.1", () => console.log(server.address().port));
