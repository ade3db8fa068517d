import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { FAST_WORKER_ENV } from './test-worker';

const root = join(__dirname, '..', '..');

/** The worker as its own OS process (from source), so a test can SIGKILL it mid-run. */
export class WorkerProcess {
  readonly child: ChildProcess;
  output = '';

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['-r', join(__dirname, 'ts-hook.js'), join(root, 'apps/worker/src/main.ts')], {
      cwd: root,
      // At least info: its start line is how a test knows it is up.
      env: { ...process.env, ...FAST_WORKER_ENV, ...env, LOG_LEVEL: env.LOG_LEVEL === 'debug' ? 'debug' : 'info', NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  get started(): boolean {
    return this.output.includes('Worker started');
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill(signal);
    return exited;
  }
}
