// `npm run start:dev`: the API and one worker in watch mode (Nest CLI, nest-cli.json), each rebuilt
// and restarted when a source file changes. The worker starts once the API answers /health, so the
// API has created and migrated the database first. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nest = join(root, 'node_modules', '.bin', 'nest');
const port = process.env.PORT ?? '3000';
const children = [];
let stopping = false;

function run(project) {
  const child = spawn(nest, ['start', project, '--watch', '--preserveWatchOutput'], { cwd: root, stdio: 'inherit', env: process.env });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`start:dev: nest start ${project} exited (${signal ?? `code ${code}`}); stopping the other.`);
      stop(code ?? 1);
    }
  });
  return child;
}

function stop(code) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  Promise.all(children.map((child) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : undefined))).then(() => process.exit(code));
}

async function waitForApi(api) {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline && api.exitCode === null) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) return;
    } catch {
      // not listening yet (still compiling, or migrating)
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (api.exitCode === null) throw new Error(`the API did not answer http://127.0.0.1:${port}/health within 180 s; see its output above`);
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
const api = run('api');
waitForApi(api).then(
  () => stopping || run('worker'),
  (error) => {
    console.error(`start:dev: ${error.message}`);
    stop(1);
  },
);
