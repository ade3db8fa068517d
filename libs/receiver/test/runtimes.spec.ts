/**
 * The WebCrypto verifier (`verifyWebhookAsync` from `@apifycloud/webhook-receiver/web`) on real
 * runtimes: Deno, Bun and workerd (the Cloudflare Workers runtime, without nodejs_compat), each
 * installed from npm as a devDependency, plus Node as the baseline.
 *
 * The module is compiled with the package's own ESM build config (tsconfig.build.esm.json, i.e.
 * exactly what lands in dist/esm/web/webcrypto-verify.js) into a private directory: package.spec.ts
 * rebuilds dist/ while other spec files run, so reading dist/ here would race with it. The build
 * uses `types: []`, so it also proves the module needs no @types/node.
 *
 * Deliveries are signed in Node by the package's /testing signer (as the platform signs them) and
 * handed to each runtime as a file; each runtime prints the outcome of every case as JSON.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateWebhookSecret, signWebhook } from '../src/testing/index';

const packageRoot = join(__dirname, '..');
const runnerDir = join(__dirname, 'runtimes');
const ENTRY = 'web/webcrypto-verify.js';

/** A binary from node_modules/.bin, looked up from this package up to the workspace root. */
function findBin(name: string): string | undefined {
  for (let dir = packageRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', '.bin', name);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function versionOf(bin: string, args: string[] = ['--version']): string {
  try {
    return execFileSync(bin, args, { encoding: 'utf8', timeout: 10_000, env: { ...process.env, NO_COLOR: '1' } }).split('\n')[0]!.trim();
  } catch (error) {
    return `unknown (${(error as Error).message.split('\n')[0]})`;
  }
}

interface Runtime {
  name: string;
  bin: string | undefined;
  install: string;
}

const RUNTIMES: Runtime[] = [
  { name: 'node', bin: process.execPath, install: '' },
  { name: 'deno', bin: findBin('deno'), install: 'npm install -D deno -w libs/receiver' },
  { name: 'bun', bin: findBin('bun'), install: 'npm install -D bun -w libs/receiver' },
  { name: 'workerd', bin: findBin('workerd'), install: 'npm install -D workerd -w libs/receiver' },
];

let workDir: string;
let outDir: string;
let graph: string[];
let deliveryPath: string;

/** Import specifiers of an emitted ES module (static, side-effect and dynamic imports, re-exports). */
function importsOf(source: string): string[] {
  return [...source.matchAll(/(?:\bfrom\s*|^\s*import\s*|\bimport\(\s*)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'webhook-receiver-runtimes-'));
  outDir = join(workDir, 'esm');
  const tsconfig = join(workDir, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify({
    extends: join(packageRoot, 'tsconfig.build.esm.json'),
    compilerOptions: { outDir, rootDir: join(packageRoot, 'src'), declaration: false, types: [] },
    files: [join(packageRoot, 'src', ENTRY.replace(/\.js$/, '.ts'))],
    include: [],
  }));
  const tsc = require.resolve('typescript/bin/tsc', { paths: [packageRoot] });
  execFileSync(process.execPath, [tsc, '-p', tsconfig], { cwd: packageRoot, stdio: 'pipe' });
  writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));

  // The module graph actually reached from the entry (not everything tsc emitted).
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of importsOf(readFileSync(join(outDir, file), 'utf8'))) {
      if (specifier.startsWith('.')) visit(relative(outDir, resolve(dirname(join(outDir, file)), specifier)));
      else seen.add(`external:${specifier}`);
    }
  };
  visit(ENTRY);
  graph = [...seen];

  const secret = generateWebhookSecret();
  const oldSecret = generateWebhookSecret();
  const otherSecret = generateWebhookSecret();
  const current = signWebhook({ secret });
  // During a rotation's grace period: current header signed with the new secret, -Previous with the old one.
  const rotated = signWebhook({ secret, previousSecret: oldSecret, event: 'scheduled.cancelled' });
  deliveryPath = join(workDir, 'delivery.json');
  writeFileSync(deliveryPath, JSON.stringify({
    secret, oldSecret, otherSecret,
    current: { body: current.body, headers: current.headers, id: current.event.id },
    rotated: { body: rotated.body, headers: rotated.headers, id: rotated.event.id },
  }));
}, 30_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

it('builds the WebCrypto entry with no node: import, no bare import and no Buffer anywhere in its module graph', () => {
  expect(graph).toContain(ENTRY);
  expect(graph.filter((file) => file.startsWith('external:'))).toEqual([]);
  for (const file of graph) {
    const code = stripComments(readFileSync(join(outDir, file), 'utf8'));
    expect({ file, usesBuffer: /(?<![\w$.])Buffer\b/.test(code), mentionsNode: /['"]node:/.test(code) }).toEqual({ file, usesBuffer: false, mentionsNode: false });
  }
});

function runOn(runtime: Runtime): { outcomes: Record<string, any>; output: string } {
  const env = { ...process.env, NO_COLOR: '1', DENO_DIR: join(workDir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1' };
  let result;
  if (runtime.name === 'workerd') {
    // workerd has no filesystem and no module resolution of its own: every module of the graph is embedded by name.
    const dir = join(workDir, 'workerd');
    for (const file of graph) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      copyFileSync(join(outDir, file), join(dir, file));
    }
    for (const file of ['worker.mjs', 'cases.mjs']) copyFileSync(join(runnerDir, file), join(dir, file));
    copyFileSync(deliveryPath, join(dir, 'delivery.json'));
    const modules = ['worker.mjs', 'cases.mjs', ...graph].map((file) => `(name = "${file}", esModule = embed "${file}")`).join(',\n    ');
    writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = ( services = [ (name = "main", worker = .worker) ] );
const worker :Workerd.Worker = (
  modules = [
    ${modules}
  ],
  bindings = [ (name = "DELIVERY", text = embed "delivery.json") ],
  compatibilityDate = "2025-01-01",
);
`);
    result = spawnSync(runtime.bin!, ['test', 'config.capnp'], { cwd: dir, env, encoding: 'utf8', timeout: 20_000 });
  } else {
    const args = { node: [], bun: [], deno: ['run', '--no-config', '--allow-read'] }[runtime.name as 'node' | 'bun' | 'deno'];
    const moduleUrl = pathToFileURL(join(outDir, ENTRY)).href;
    result = spawnSync(runtime.bin!, [...args, join(runnerDir, 'cli.mjs'), moduleUrl, deliveryPath], { cwd: workDir, env, encoding: 'utf8', timeout: 20_000 });
  }
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  if (result.error || result.status !== 0) throw new Error(`${runtime.name} exited with ${result.status ?? result.error}:\n${output}`);
  const line = output.split('\n').map((l) => l.replace(/^.*?OUTCOMES /, '')).find((l) => l.startsWith('{"runtime"'));
  if (line === undefined) throw new Error(`${runtime.name} printed no outcomes:\n${output}`);
  return { outcomes: JSON.parse(line), output };
}

describe.each(RUNTIMES)('verifyWebhookAsync on $name', (runtime) => {
  if (runtime.bin === undefined) {
    // Skipped only when the binary is absent; say how to get it.
    it.skip(`skipped: no ${runtime.name} binary in node_modules/.bin (${runtime.install})`, () => undefined);
    return;
  }
  const version = runtime.name === 'node' ? process.version : versionOf(runtime.bin);

  it(`(${version}) accepts deliveries signed as the platform signs them and rejects altered ones with the typed error codes`, () => {
    const { outcomes } = runOn(runtime);
    const data = JSON.parse(readFileSync(deliveryPath, 'utf8'));
    const failed = (code: string) => ({ ok: false, code, name: 'WebhookError', isWebhookError: true });

    expect(outcomes).toEqual(expect.objectContaining({
      validBytes: { ok: true, id: data.current.id, type: 'scheduled.created' },
      validStringFetchHeaders: { ok: true, id: data.current.id, type: 'scheduled.created', signature: { secretIndex: 1, header: 'current' } },
      previousHeader: { ok: true, id: data.rotated.id, type: 'scheduled.cancelled', signature: { secretIndex: 0, header: 'previous' } },
      tampered: failed('invalid_signature'),
      wrongSecret: failed('invalid_signature'),
      missingSignature: failed('missing_signature'),
      malformedSignature: failed('malformed_signature'),
      stale: failed('stale_delivery'),
      future: failed('future_delivery'),
      headerMismatch: failed('header_mismatch'),
    }));
    if (runtime.name === 'workerd') expect(outcomes.hasBuffer).toBe(false); // no nodejs_compat: a Buffer use would have thrown
  }, 30_000);
});
