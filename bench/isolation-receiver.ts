/**
 * The receivers of bench:isolation, in their own process (as delivery-receiver.ts, so they do not
 * share an event loop with the load generator). One server per role, each its own origin, so the
 * worker's per-origin connection pools are not shared between subscriptions:
 *   - healthy: answers 200 at once and notes, in epoch milliseconds, when each `"seq":N` arrived;
 *   - hang:    reads the request and never answers (the worker's timeout ends it);
 *   - slow:    answers 200 after the delay given as first argument (two of them: the slow app, and
 *              the one drained alone).
 * Sends `{ ports }` once listening; on 'report', the arrivals since the last report and the counts.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';

const slowMs = Number(process.argv[2] ?? 200);

export type ReceiverRole = 'healthy' | 'hang' | 'slow' | 'slow2';

export interface ReceiverCounts {
  /** Requests whose body was read. */
  received: number;
  /** Requests read but not answered yet, whose connection is still open. */
  open: number;
}

export interface ReceiverReport {
  arrivals: Array<[string, number]>;
  counts: Record<ReceiverRole, ReceiverCounts>;
}

const arrivals: Array<[string, number]> = [];
const counts: Record<ReceiverRole, ReceiverCounts> = {
  healthy: { received: 0, open: 0 },
  hang: { received: 0, open: 0 },
  slow: { received: 0, open: 0 },
  slow2: { received: 0, open: 0 },
};

/** Reads the body, then hands it to `answer`; `open` counts the requests not yet answered or closed. */
function serve(role: ReceiverRole, answer: (body: string, res: ServerResponse) => void): Server {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    // A worker that gives up resets the connection: the request errors, which must not crash us.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      counts[role].received++;
      counts[role].open++;
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        counts[role].open--;
      };
      res.once('finish', settle);
      res.once('close', settle);
      answer(Buffer.concat(chunks).toString('utf8'), res);
    });
  });
  // The hang server holds requests for as long as the client keeps them; Node's own limits (300 s
  // for a whole request, 5 s keep-alive) must not answer or close them on its behalf.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 60_000;
  server.on('clientError', (_error, socket) => socket.destroy());
  return server;
}

const ok = (res: ServerResponse) => {
  if (!res.destroyed) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
};

const servers: Record<ReceiverRole, Server> = {
  healthy: serve('healthy', (body, res) => {
    // `\s*`: a payload stored as jsonb comes back as `"seq": N`.
    const seq = /"seq":\s*(\d+)/.exec(body);
    if (seq) arrivals.push([seq[1], performance.timeOrigin + performance.now()]);
    ok(res);
  }),
  hang: serve('hang', () => undefined),
  slow: serve('slow', (_body, res) => {
    setTimeout(() => ok(res), slowMs);
  }),
  slow2: serve('slow2', (_body, res) => {
    setTimeout(() => ok(res), slowMs);
  }),
};

const roles = Object.keys(servers) as ReceiverRole[];
void Promise.all(
  roles.map(
    (role) =>
      new Promise<[ReceiverRole, number]>((resolve) => {
        servers[role].listen(0, '127.0.0.1', () => resolve([role, (servers[role].address() as { port: number }).port]));
      }),
  ),
).then((ports) => process.send!({ ports: Object.fromEntries(ports) }));

process.on('message', (message: string) => {
  if (message === 'report') process.send!({ arrivals: arrivals.splice(0), counts } satisfies ReceiverReport);
  if (message === 'stop') {
    for (const server of roles.map((role) => servers[role])) server.closeAllConnections();
    process.exit(0);
  }
});
