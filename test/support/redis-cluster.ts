import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { waitFor } from './wait-for';

const run = promisify(execFile);

interface ClusterNode {
  port: number;
  busPort: number;
  process: ChildProcess;
  output: string;
}

/**
 * A private Redis Cluster of `size` primaries (no replicas) for one test file: its own redis-server
 * processes on free loopback ports, their nodes.conf in a temporary folder, nothing on disk
 * besides that. Never touches the machine's shared Redis.
 */
export class TestRedisCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'scw-redis-cluster-'));
  private readonly nodes: ClusterNode[] = [];

  /** `redis+cluster://` with every node as a seed, as an operator would write it. */
  get url(): string {
    return `redis+cluster://${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
  }

  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  async start(size = 3): Promise<this> {
    for (let i = 0; i < size; i++) {
      const [port, busPort] = await freePorts(2);
      const node: ClusterNode = { port, busPort, process: undefined as unknown as ChildProcess, output: '' };
      this.nodes.push(node);
      this.spawn(node);
    }
    await Promise.all(this.nodes.map((node) => this.waitForPing(node)));
    // Spreads the 16,384 slots over the nodes, introduces them to each other and waits for them to agree.
    await run('redis-cli', ['--cluster', 'create', ...this.nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    await this.waitForState('ok');
    return this;
  }

  /** The port of the node that serves `key`'s slot (its first hash tag's slot). */
  async portServing(key: string): Promise<number> {
    const client = this.client(this.nodes[0].port);
    try {
      const slot = await client.cluster('KEYSLOT', key);
      const range = (await client.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
      if (!range?.[2]) throw new Error(`slot ${slot} is not served by any node`);
      return range[2][1];
    } finally {
      client.disconnect();
    }
  }

  /** Keys on one node (a node only holds the keys of its own slots). */
  async keysOn(port: number, pattern: string): Promise<string[]> {
    const client = this.client(port);
    try {
      return await client.keys(pattern);
    } finally {
      client.disconnect();
    }
  }

  /** SIGKILLs a node: everything it held is gone (nothing is persisted), its slots stay its own in nodes.conf. */
  async kill(port: number): Promise<void> {
    const node = this.node(port);
    if (node.process.exitCode !== null || node.process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => node.process.once('exit', () => resolve()));
    node.process.kill('SIGKILL');
    await exited;
  }

  /** Starts a killed node again with the same config file and folder: it rejoins with its slots, empty. */
  async restart(port: number): Promise<void> {
    const node = this.node(port);
    this.spawn(node);
    await this.waitForPing(node);
    await this.waitForState('ok');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.kill(node.port).catch(() => undefined)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private spawn(node: ClusterNode): void {
    node.process = spawn(
      'redis-server',
      [
        '--port',
        String(node.port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(node.busPort),
        '--cluster-config-file',
        `nodes-${node.port}.conf`,
        '--cluster-node-timeout',
        '5000',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    node.process.on('error', (error) => (node.output += `\n${error.message}`)); // e.g. redis-server missing: waitForPing reports it
    node.process.stdout!.on('data', (chunk: Buffer) => (node.output += chunk.toString()));
    node.process.stderr!.on('data', (chunk: Buffer) => (node.output += chunk.toString()));
  }

  private async waitForPing(node: ClusterNode): Promise<void> {
    await waitFor(
      `redis-server on port ${node.port} to answer`,
      async () => {
        if (node.process.exitCode !== null || node.process.pid === undefined) throw new Error(`redis-server did not start: ${node.output.slice(-500)}`);
        const client = this.client(node.port);
        try {
          return (await client.ping()) === 'PONG';
        } finally {
          client.disconnect();
        }
      },
      10_000,
      50,
    );
  }

  private async waitForState(state: 'ok'): Promise<void> {
    await waitFor(
      `every cluster node to say cluster_state:${state}`,
      async () => {
        for (const node of this.nodes) {
          const client = this.client(node.port);
          try {
            if (!(await client.cluster('INFO')).includes(`cluster_state:${state}`)) return false;
          } finally {
            client.disconnect();
          }
        }
        return true;
      },
      20_000,
      100,
    );
  }

  private client(port: number): Redis {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    return client;
  }

  private node(port: number): ClusterNode {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node on port ${port}`);
    return node;
  }
}

/** Ports the kernel has just handed out as free (bound then released at once). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
