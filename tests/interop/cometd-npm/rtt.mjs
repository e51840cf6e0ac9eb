// Round trips of the npm CometD client: publish on a channel it subscribed to, time until the message comes
// back. Prints one JSON line {"n", "p50_us", "p99_us"}.
// Usage: node rtt.mjs <cometd url> <round trips>
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";

adapt();

const [url, count] = process.argv.slice(2);
const total = Number(count ?? 1000);
const cometd = new CometD();
cometd.unregisterTransport("websocket");
cometd.configure({ url, logLevel: "warn" });

const samples = [];
let started = 0n;

function sendOne() {
  started = process.hrtime.bigint();
  cometd.publish("/bench/echo", { n: samples.length });
}

cometd.handshake((reply) => {
  if (!reply.successful) {
    console.error("handshake failed", reply);
    process.exit(1);
  }
  cometd.subscribe("/bench/echo", () => {
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
    if (samples.length === total) {
      samples.sort((a, b) => a - b);
      const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
      console.log(JSON.stringify({ n: total, p50_us: at(0.5), p99_us: at(0.99) }));
      cometd.disconnect(() => process.exit(0));
    } else {
      sendOne();
    }
  }, (subscribed) => {
    if (subscribed.successful) sendOne();
  });
});
