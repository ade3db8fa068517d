// The HTTP side of the benchmark, in its own process so the load generator does not share its event loop.
// One Express 5 app, two routes that differ only by the middleware: /bare parses JSON with express.json(),
// /hook verifies and deduplicates with apifyCloudWebhook() (memory store). Both answer the same 200.
import express from 'express';
import { apifyCloudWebhook } from '@apifycloud/webhook-receiver/express';

const secret = process.env.BENCH_SECRET;
const app = express();
const handler = (req, res) => res.status(200).json({ received: req.body.id });
app.post('/bare', express.json(), handler);
app.post('/hook', apifyCloudWebhook({ secret }), handler);
const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
server.keepAliveTimeout = 60_000;
process.on('disconnect', () => process.exit(0));
