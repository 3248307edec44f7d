// Send events to the console with one official Node SDK, unmodified.
// usage: node send.mjs <segment|rudderstack|snowplow> <console URL> <write key> <run id>
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const [sdk, url, key, run] = process.argv.slice(2);
const user = `node-${run}`;

async function segment() {
  const { Analytics } = await import("@segment/analytics-node");
  const client = new Analytics({ writeKey: key, host: url, maxEventsInBatch: 10, maxRetries: 3 });
  const failures = [];
  client.on("error", (err) => failures.push(String(err.code || err)));
  client.identify({ userId: user, anonymousId: `anon-${run}`, traits: { email: `${user}@example.com` } });
  client.track({ userId: user, event: "Order Completed", properties: { total: 12.5 } });
  client.page({ userId: user, name: "Pricing", properties: { url: "https://www.acme.example/pricing" } });
  await client.closeAndFlush({ timeout: 20000 });
  if (failures.length) throw new Error(failures.join(", "));
}

async function rudderstack() {
  const Analytics = require("@rudderstack/rudder-sdk-node");
  const failures = [];
  const client = new Analytics(key, {
    dataPlaneUrl: url, flushAt: 10, flushInterval: 200, logLevel: "error",
    errorHandler: (err) => failures.push(String(err)),
  });
  client.track({ userId: user, event: "Signed Up", properties: { method: "email" } });
  client.identify({ userId: user, traits: { plan: "free" } });
  await client.flush();
  if (failures.length) throw new Error(failures.join(", "));
}

async function snowplow() {
  const { newTracker, buildPageView, buildSelfDescribingEvent } = await import("@snowplow/node-tracker");
  const parsed = new URL(url);
  const tracker = newTracker(
    { namespace: "console-tests", appId: key, encodeBase64: true },
    { endpoint: parsed.hostname, port: Number(parsed.port), protocol: "http", bufferSize: 1 },
  );
  tracker.setDomainUserId(`duid-${run}`);
  tracker.track(buildPageView({ pageUrl: "https://www.acme.example/?gclid=G1", pageTitle: "Home" }));
  tracker.track(buildSelfDescribingEvent({
    event: { schema: "iglu:com.acme/order_completed/jsonschema/1-0-0", data: { total: 3 } },
  }));
  await tracker.flush();
}

const senders = { segment, rudderstack, snowplow };
try {
  await senders[sdk]();
  console.log(`sent with ${sdk}`);
} catch (err) {
  console.error(`failed with ${sdk}: ${err}`);
  process.exit(1);
}
