/**
 * `npm start`: the API (which creates and migrates the database) and one worker, together.
 * The worker starts once the API answers /health, so its first log lines are not migration noise.
 * Either process exiting stops the other; Ctrl-C stops both gracefully.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');
const port = process.env.PORT ?? '3000';
const children: ChildProcess[] = [];
let stopping = false;

function run(name: string, script: string): ChildProcess {
  const child = spawn(process.execPath, [join(root, script)], { stdio: 'inherit', env: process.env });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`start: ${name} exited (${signal ?? `code ${code}`}); stopping the others.`);
      stop(code ?? 1);
    }
  });
  return child;
}

function stop(code: number): void {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  void Promise.all(children.map((child) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : Promise.resolve()))).then(() =>
    process.exit(code),
  );
}

async function waitForApi(api: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && api.exitCode === null) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (api.exitCode === null) throw new Error(`the API did not answer http://127.0.0.1:${port}/health within 120 s`);
}

async function main(): Promise<void> {
  const api = run('api', 'apps/api/src/main.js');
  await waitForApi(api);
  if (stopping) return;
  run('worker', 'apps/worker/src/main.js');
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
main().catch((error: Error) => {
  console.error(`start: ${error.message}`);
  stop(1);
});
