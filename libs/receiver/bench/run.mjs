// npm run bench: progress on stderr, one JSON line last on stdout, every figure measured in this run.
//   verify_per_s     WebhookVerifier.verify() (signature, replay window, envelope, headers) over N signed bodies
//   hmac_per_s       createHmac('sha256', secret).update(body).digest() over the same bodies
//   decode_per_s     verify() plus reading .event (full JSON.parse and checks), for reference
//   webcrypto_per_s  the WebCrypto path (web: createWebCryptoVerifier().verify(), awaited one at a time) over the same
//                    kind of bodies; webcrypto_ratio divides it by raw createHmac per second measured in alternating rounds
//   middleware_rps   Express 5 endpoint with apifyCloudWebhook() (memory store, unique event ids)
//   bare_rps         the same endpoint with express.json() instead
// Rounds alternate between the two sides and the median is reported, so drift hits both equally.
import { fork } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { WebhookVerifier } from '@apifycloud/webhook-receiver';
import { generateWebhookSecret, signWebhook } from '@apifycloud/webhook-receiver/testing';
import { createWebCryptoVerifier } from '@apifycloud/webhook-receiver/web';

const require = createRequire(import.meta.url);
const { Pool } = require('undici');

const CORE_BODIES = 1000;
// Many short rounds, in rotating order, with medians: on a shared 2-core machine other processes come
// and go, and this spreads their effect over both sides of each comparison instead of one.
const CORE_ROUND_MS = 200;
const CORE_ROUNDS = 15;
const HTTP_ROUNDS = 10;
const HTTP_ROUND_MS = 1000;
const HTTP_MAX_REQUESTS_PER_ROUND = 15_000;
const CONNECTIONS = 16;

const log = (...args) => console.error('[bench]', ...args);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function deliveries(secret, count, now) {
  // A realistic booking record: ~1 KB bodies, each with its own event id.
  return Array.from({ length: count }, (_, i) =>
    signWebhook({
      secret,
      event: 'scheduled.confirmed',
      deliveredAt: new Date(now),
      attempt: 1,
      subscriptionId: 'sub_bench',
      id: `evt_${i}_${Math.random().toString(36).slice(2)}`,
      scheduledCall: { metadata: { crm_id: `crm-${i}`, source: 'website', campaign: 'spring' } },
    }),
  );
}

function rate(fn, bodies, ms) {
  const deadline = performance.now() + ms;
  let ops = 0;
  let sink = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let i = 0; i < bodies.length; i++) sink ^= fn(bodies[i]) ? 1 : 0;
    ops += bodies.length;
  }
  if (sink === 2) log('unreachable');
  return ops / ((performance.now() - start) / 1000);
}

function benchCore() {
  const secret = generateWebhookSecret();
  const now = Date.now();
  const signed = deliveries(secret, CORE_BODIES, now);
  const verifier = new WebhookVerifier({ secret, now: () => now });
  const inputs = signed.map((d) => ({ rawBody: d.rawBody, headers: Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k.toLowerCase(), v])) }));
  log(`core: ${inputs.length} bodies of ~${inputs[0].rawBody.length} bytes`);
  const verify = (input) => verifier.verify(input.rawBody, input.headers).attempt === 1;
  const decode = (input) => verifier.verify(input.rawBody, input.headers).event.attempt === 1;
  const hmac = (input) => createHmac('sha256', secret).update(input.rawBody).digest()[0] >= 0;
  // Sanity: every body verifies before anything is timed.
  for (const input of inputs) if (!decode(input)) throw new Error('a benchmark body failed to verify');
  const results = { verify: [], hmac: [], decode: [] };
  const sides = [
    ['hmac', hmac],
    ['verify', verify],
    ['decode', decode],
  ];
  for (let round = 0; round < CORE_ROUNDS; round++) {
    for (let k = 0; k < sides.length; k++) {
      const [name, fn] = sides[(round + k) % sides.length];
      results[name].push(rate(fn, inputs, CORE_ROUND_MS));
    }
    log(
      `core round ${round + 1}/${CORE_ROUNDS}: hmac ${results.hmac.at(-1).toFixed(0)}/s verify ${results.verify.at(-1).toFixed(0)}/s verify+decode ${results.decode.at(-1).toFixed(0)}/s`,
    );
  }
  return { hmac: median(results.hmac), verify: median(results.verify), decode: median(results.decode) };
}

async function rateAsync(fn, bodies, ms) {
  const deadline = performance.now() + ms;
  let ops = 0;
  let sink = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let i = 0; i < bodies.length; i++) sink ^= (await fn(bodies[i])) ? 1 : 0;
    ops += bodies.length;
  }
  if (sink === 2) log('unreachable');
  return ops / ((performance.now() - start) / 1000);
}

// Separate from benchCore (runs after it) so the figures above are measured exactly as before.
async function benchWebCrypto() {
  const secret = generateWebhookSecret();
  const now = Date.now();
  const verifier = createWebCryptoVerifier({ secret, now: () => now });
  const inputs = deliveries(secret, CORE_BODIES, now).map((d) => ({
    rawBody: d.rawBody,
    headers: Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k.toLowerCase(), v])),
  }));
  const webcrypto = async (input) => (await verifier.verify(input.rawBody, input.headers)).attempt === 1;
  const hmac = (input) => createHmac('sha256', secret).update(input.rawBody).digest()[0] >= 0;
  for (const input of inputs) if (!(await webcrypto(input))) throw new Error('a benchmark body failed WebCrypto verification');
  const results = { hmac: [], webcrypto: [] };
  for (let round = 0; round < CORE_ROUNDS; round++) {
    const order = round % 2 === 0 ? ['hmac', 'webcrypto'] : ['webcrypto', 'hmac'];
    for (const side of order) {
      results[side].push(side === 'hmac' ? rate(hmac, inputs, CORE_ROUND_MS) : await rateAsync(webcrypto, inputs, CORE_ROUND_MS));
    }
    log(`webcrypto round ${round + 1}/${CORE_ROUNDS}: hmac ${results.hmac.at(-1).toFixed(0)}/s webcrypto verify ${results.webcrypto.at(-1).toFixed(0)}/s`);
  }
  return { hmac: median(results.hmac), webcrypto: median(results.webcrypto) };
}

async function loadRound(pool, path, requests, ms) {
  let next = 0;
  let done = 0;
  let failures = 0;
  const deadline = performance.now() + ms;
  const start = performance.now();
  async function worker() {
    while (next < requests.length && performance.now() < deadline) {
      const d = requests[next++];
      const response = await pool.request({ method: 'POST', path, headers: d.headers, body: d.rawBody });
      await response.body.dump();
      if (response.statusCode !== 200) failures++;
      done++;
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = (performance.now() - start) / 1000;
  if (failures > 0) throw new Error(`${failures} of ${done} requests to ${path} did not answer 200`);
  return done / elapsed;
}

async function benchHttp() {
  const secret = generateWebhookSecret();
  const child = fork(new URL('./server.mjs', import.meta.url), {
    env: { ...process.env, BENCH_SECRET: secret },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    const { port } = await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    });
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS, pipelining: 1 });
    const results = { bare: [], middleware: [] };
    const warm = deliveries(secret, 3000, Date.now());
    await loadRound(pool, '/bare', warm, 1000);
    await loadRound(pool, '/hook', warm, 1000);
    for (let round = 0; round < HTTP_ROUNDS; round++) {
      // Fresh, unique deliveries per round: signed now (inside the replay window), never seen by the store.
      const requests = deliveries(secret, HTTP_MAX_REQUESTS_PER_ROUND, Date.now());
      const order = round % 2 === 0 ? ['bare', 'middleware'] : ['middleware', 'bare'];
      for (const side of order) {
        results[side].push(await loadRound(pool, side === 'bare' ? '/bare' : '/hook', requests, HTTP_ROUND_MS));
      }
      log(`http round ${round + 1}/${HTTP_ROUNDS}: bare ${results.bare.at(-1).toFixed(0)} req/s, middleware ${results.middleware.at(-1).toFixed(0)} req/s`);
    }
    await pool.close();
    return { bare: median(results.bare), middleware: median(results.middleware) };
  } finally {
    child.kill();
  }
}

// BENCH_ONLY=core|http runs one half while iterating on the code; the reported run measures both.
const only = process.env.BENCH_ONLY;
const core = only === 'http' ? { hmac: Number.NaN, verify: Number.NaN, decode: Number.NaN } : benchCore();
const webcrypto = only === 'http' ? { hmac: Number.NaN, webcrypto: Number.NaN } : await benchWebCrypto();
const http = only === 'core' ? { bare: Number.NaN, middleware: Number.NaN } : await benchHttp();
const round = (n, digits = 0) => Number(n.toFixed(digits));
console.log(
  JSON.stringify({
    verify_per_s: round(core.verify),
    hmac_per_s: round(core.hmac),
    verify_ratio: round(core.verify / core.hmac, 3),
    decode_per_s: round(core.decode),
    decode_ratio: round(core.decode / core.hmac, 3),
    middleware_rps: round(http.middleware),
    bare_rps: round(http.bare),
    middleware_ratio: round(http.middleware / http.bare, 3),
    webcrypto_per_s: round(webcrypto.webcrypto),
    webcrypto_ratio: round(webcrypto.webcrypto / webcrypto.hmac, 3),
  }),
);
