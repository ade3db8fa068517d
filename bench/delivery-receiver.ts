/**
 * The receiver of bench:delivery, in its own process so that it does not share an event loop (and
 * a core's worth of CPU) with the bench's load generator. Answers 200 at once and notes, in epoch
 * milliseconds, when each event carrying `"seq":N` arrived; reports them when asked over IPC.
 */
import { createServer } from 'node:http';

const arrivals: Array<[string, number]> = [];
let received = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received++;
    const seq = /"seq":(\d+)/.exec(Buffer.concat(chunks).toString('utf8'));
    if (seq) arrivals.push([seq[1], performance.timeOrigin + performance.now()]);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
process.on('message', (message: string) => {
  if (message === 'report') process.send!({ received, arrivals: arrivals.splice(0) });
  if (message === 'stop') server.close(() => process.exit(0));
});
