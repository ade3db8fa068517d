import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawBody: Buffer;
  json: any;
  receivedAt: number;
}

export type Responder = (request: ReceivedRequest, res: ServerResponse) => void | Promise<void>;

/** A real HTTP receiver on loopback that records every request; the test decides how it answers. */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  private server: Server | undefined;
  responder: Responder = (_, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  };

  get url(): string {
    const address = this.server!.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks);
        let json: unknown = undefined;
        try {
          json = JSON.parse(rawBody.toString('utf8'));
        } catch {
          // recorded as is
        }
        const received: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawBody, json, receivedAt: Date.now() };
        this.requests.push(received);
        Promise.resolve(this.responder(received, res)).catch(() => res.destroy());
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  answer(status: number, body = '', headers: Record<string, string> = {}): void {
    this.responder = (_, res) => {
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body);
    };
  }

  forEvent(eventId: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.json?.id === eventId);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The receivers a test file starts as it needs them, stopped together in its afterAll. */
export class TestReceivers {
  private readonly started: TestReceiver[] = [];

  async start(): Promise<TestReceiver> {
    const receiver = await new TestReceiver().start();
    this.started.push(receiver);
    return receiver;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.started.map((r) => r.stop()));
  }
}
