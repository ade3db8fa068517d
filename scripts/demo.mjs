#!/usr/bin/env node
/**
 * `npm run demo`: the happy path end to end on a running stack (`WEBHOOK_ALLOW_PRIVATE_URLS=true npm start`).
 * A receiver built with @apifycloud/webhook-receiver listens on loopback; the demo creates an app,
 * subscribes the receiver, then creates, confirms, reschedules and cancels a booking and lets a
 * second one become a no-show. Every delivery is verified by the package and printed.
 */
import express from 'express';
import { apifyCloudWebhook } from '@apifycloud/webhook-receiver/express';

const API = process.env.DEMO_API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
const TOKEN = process.env.ADMIN_TOKEN;
const EXPECTED = 6;

function fail(message) {
  console.error(`demo: ${message}`);
  process.exit(1);
}

if (!TOKEN) fail('set ADMIN_TOKEN to the operator token of the running stack (npm start prints one when it generated it).');

async function call(method, path, key, body) {
  let response;
  try {
    response = await fetch(`${API}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (error) {
    fail(`the API at ${API} does not answer (${error.cause?.code ?? error.message}). Start the stack first: WEBHOOK_ALLOW_PRIVATE_URLS=true npm start`);
  }
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    const hint = json.code === 'url_not_allowed' ? ' (start the stack with WEBHOOK_ALLOW_PRIVATE_URLS=true so it may call this loopback receiver)' : '';
    fail(`${method} ${path} answered ${response.status} ${json.code ?? ''}: ${json.message ?? ''}${hint}`);
  }
  return json;
}

const received = [];
let subscriptionSecret = '';
const app = express();
app.post(
  '/webhooks',
  (req, res, next) => apifyCloudWebhook({ secret: subscriptionSecret })(req, res, next),
  (req, res) => {
    const { event, attempt, payload } = req.body;
    const call = payload.scheduled_call;
    received.push(event);
    console.log(`  ✔ verified ${event.padEnd(22)} call ${call.id.slice(0, 8)}  status=${call.status.padEnd(20)} version=${call.version}  attempt=${attempt}`);
    res.sendStatus(204);
  },
);
const server = await new Promise((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});
const receiverUrl = `http://127.0.0.1:${server.address().port}/webhooks`;
console.log(`Receiver (built with @apifycloud/webhook-receiver) listening on ${receiverUrl}`);

const videoApp = await call('POST', '/v1/apps', TOKEN, { name: `Demo ${new Date().toISOString()}`, no_show_grace_minutes: 0 });
console.log(`App ${videoApp.id} created`);
const sub = await call('POST', `/v1/apps/${videoApp.id}/webhook-subscriptions`, videoApp.api_key, { url: receiverUrl, events: ['*'], description: 'demo' });
subscriptionSecret = sub.secret;
console.log(`Subscription ${sub.id} created for all events\n`);

const base = `/v1/apps/${videoApp.id}/scheduled-calls`;
const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
const booking = await call('POST', base, videoApp.api_key, {
  scheduled_at: inAnHour,
  duration_minutes: 30,
  timezone: 'Europe/Paris',
  requires_confirmation: true,
  guest: { name: 'Grace Hopper', email: 'grace@example.com' },
  agent: { id: 'agent-42', name: 'Ada' },
});
console.log(`Booking ${booking.id.slice(0, 8)}: created, confirmed, rescheduled, cancelled`);
await call('POST', `${base}/${booking.id}/confirm`, videoApp.api_key);
await call('POST', `${base}/${booking.id}/reschedule`, videoApp.api_key, {
  scheduled_at: new Date(Date.now() + 7_200_000).toISOString(),
  reason: 'the guest asked',
});
await call('POST', `${base}/${booking.id}/cancel`, videoApp.api_key, { reason: 'no longer needed' });
const soon = await call('POST', base, videoApp.api_key, {
  scheduled_at: new Date(Date.now() + 3_000).toISOString(),
  duration_minutes: 15,
  guest: { name: 'Nobody Shows', email: 'nobody@example.com' },
});
console.log(`Booking ${soon.id.slice(0, 8)}: starts in 3 s with no grace; nobody joins, so it becomes a no-show\n`);

const deadline = Date.now() + 30_000;
while (received.length < EXPECTED && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
server.close();
if (received.length < EXPECTED) fail(`only ${received.length} of ${EXPECTED} deliveries arrived within 30 s; is a worker running (npm start runs one)?`);
console.log(`\nAll ${EXPECTED} deliveries arrived and verified.`);
process.exit(0);
