/**
 * The baseline of bench:delivery, run as its own process: COUNT signed 1 KB-class POSTs straight to
 * the receiver with the worker's HTTP client (undici Agent) and concurrency. Prints {"per_s": …}.
 */
import { createHmac } from 'node:crypto';
import { Agent } from 'undici';

async function main(): Promise<void> {
  const [url, countArg, concurrencyArg, bodyArg] = process.argv.slice(2);
  const count = Number(countArg);
  const concurrency = Number(concurrencyArg);
  const target = new URL(url);
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  const payload = Buffer.from(bodyArg, 'base64').toString('utf8');
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const body = `{"id":"baseline-${i}","event":"scheduled.created","deliveredAt":"${new Date().toISOString()}","attempt":1,"payload":${payload}}`;
        const signature = createHmac('sha256', 'whsec_baseline').update(body).digest('hex');
        const response = await agent.request({
          origin: target.origin,
          path: target.pathname,
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-apifycloud-signature': `sha256=${signature}`, 'x-apifycloud-event-id': `baseline-${i}` },
        });
        await response.body.dump();
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await agent.close();
  console.log(JSON.stringify({ per_s: count / seconds }));
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
