/**
 * `@apifycloud/webhook-receiver/web` on real runtimes, as their users install it: the packed tarball
 * (built into a private folder, see support/packed-package.ts) installed into a fresh project, and
 * `/web` resolved with each runtime's own export conditions:
 *
 * - Node and Bun (the `node` condition): the Node build, `node:crypto` receiver;
 * - Deno (`deno`) and workerd, the Cloudflare Workers runtime WITHOUT `nodejs_compat` (`workerd`,
 *   resolved here as wrangler would, and embedded module by module): the portable WebCrypto build.
 *
 * Each runtime runs `createWebhookHandler` with the memory store (valid delivery 204 and the handler
 * ran, the same delivery again 200 duplicate, a tampered one 401, a wrong shape 400), routing with a
 * failing route (released, retried), an explicit `WebCryptoWebhookReceiver`, and the WebCrypto
 * verifier's error codes. Deliveries are signed in Node by the package's /testing signer, as the
 * platform signs them. The runtimes come from npm as devDependencies (deno, bun, workerd).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { generateWebhookSecret, signBody, signWebhook } from '../src/testing/index';
import { packageDir, packPackage, resolveExport } from './support/packed-package';

const runnerDir = join(__dirname, 'runtimes');
const PACKAGE = '@apifycloud/webhook-receiver';

/** A binary from node_modules/.bin, looked up from this package up to the workspace root. */
function findBin(name: string): string | undefined {
  for (let dir = packageDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', '.bin', name);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function versionOf(bin: string, args: string[] = ['--version']): string {
  try {
    return execFileSync(bin, args, { encoding: 'utf8', timeout: 10_000, env: { ...process.env, NO_COLOR: '1' } })
      .split('\n')[0]!
      .trim();
  } catch (error) {
    return `unknown (${(error as Error).message.split('\n')[0]})`;
  }
}

interface Runtime {
  name: 'node' | 'deno' | 'bun' | 'workerd';
  bin: string | undefined;
  install: string;
  /** Which receiver `/web` creates there: the `node` condition's build or the portable one. */
  receiver: 'WebhookReceiver' | 'WebCryptoWebhookReceiver';
}

const RUNTIMES: Runtime[] = [
  { name: 'node', bin: process.execPath, install: '', receiver: 'WebhookReceiver' },
  { name: 'deno', bin: findBin('deno'), install: 'npm install -D deno -w libs/receiver', receiver: 'WebCryptoWebhookReceiver' },
  { name: 'bun', bin: findBin('bun'), install: 'npm install -D bun -w libs/receiver', receiver: 'WebhookReceiver' },
  { name: 'workerd', bin: findBin('workerd'), install: 'npm install -D workerd -w libs/receiver', receiver: 'WebCryptoWebhookReceiver' },
];

/** The conditions each non-Node target resolves `/web` with (wrangler: workerd, worker, browser; Vercel Edge: edge-light). */
const NON_NODE_CONDITIONS: Record<string, string[]> = {
  workerd: ['workerd', 'worker', 'browser'],
  'vercel edge': ['edge-light', 'worker', 'browser'],
  worker: ['worker'],
  browser: ['browser'],
  deno: ['deno', 'node'],
  'no runtime condition': [],
};

let workDir: string;
let consumer: string;
let installed: string;
let exportsField: unknown;
let deliveryPath: string;

/** Relative specifiers of an emitted module: ESM imports and re-exports, dynamic imports, CommonJS require(). */
function importsOf(source: string): string[] {
  return [...source.matchAll(/(?:\bfrom\s*|^\s*import\s*|\bimport\(\s*|\brequire\(\s*)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** Every file reached from `entry` (a path inside the installed package), and every non-relative specifier met. */
function graphOf(entry: string): { files: string[]; external: string[] } {
  const files = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of importsOf(readFileSync(join(installed, file), 'utf8'))) {
      if (!specifier.startsWith('.')) {
        external.add(specifier);
        continue;
      }
      let target = posix.normalize(posix.join(posix.dirname(file), specifier));
      // Declarations import './x.js' and mean './x.d.ts'.
      if (file.endsWith('.d.ts')) target = target.replace(/\.js$/, '.d.ts');
      visit(target);
    }
  };
  visit(entry.replace(/^\.\//, ''));
  return { files: [...files], external: [...external] };
}

function nodeTraces(file: string): { file: string; usesBuffer: boolean; mentionsNode: boolean } {
  const code = stripComments(readFileSync(join(installed, file), 'utf8'));
  return { file, usesBuffer: /(?<![\w$.])Buffer\b/.test(code), mentionsNode: /['"]node:/.test(code) };
}

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'webhook-receiver-runtimes-'));
  const { tarball } = packPackage(workDir);
  consumer = join(workDir, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  // No runtime dependencies and optional peers only, so this works offline.
  execFileSync('npm', ['install', tarball, '--no-audit', '--no-fund', '--offline', '--no-package-lock'], { cwd: consumer, stdio: 'pipe', timeout: 120_000 });
  installed = join(consumer, 'node_modules', PACKAGE);
  exportsField = (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { exports: unknown }).exports;
  for (const file of ['cli.mjs', 'cases.mjs']) copyFileSync(join(runnerDir, file), join(consumer, file));

  const secret = generateWebhookSecret();
  const oldSecret = generateWebhookSecret();
  const otherSecret = generateWebhookSecret();
  const current = signWebhook({ secret });
  // During a rotation's grace period: current header signed with the new secret, -Previous with the old one.
  const rotated = signWebhook({ secret, previousSecret: oldSecret, event: 'scheduled.cancelled' });
  // Signed correctly, but payload.scheduled_call is not a booking record.
  const shapeless = signWebhook({ secret });
  const wrongBody = JSON.stringify({ ...shapeless.event, payload: { scheduled_call: [] } });
  const wrongShape = { body: wrongBody, headers: { ...shapeless.headers, 'X-ApifyCloud-Signature': signBody(wrongBody, secret) } };
  deliveryPath = join(workDir, 'delivery.json');
  writeFileSync(
    deliveryPath,
    JSON.stringify({
      secret,
      oldSecret,
      otherSecret,
      wrongShape,
      current: { body: current.body, headers: current.headers, id: current.event.id },
      rotated: { body: rotated.body, headers: rotated.headers, id: rotated.event.id, cancelledAt: rotated.event.payload.scheduled_call.cancelled_at },
    }),
  );
}, 240_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('the packed /web build for non-Node conditions', () => {
  it.each(
    Object.entries(NON_NODE_CONDITIONS).flatMap(([target, conditions]) => [
      [target, 'import', [...conditions, 'import']],
      [target, 'require', [...conditions, 'require']],
    ]),
  )('%s (%s): no node: import, no bare import and no Buffer anywhere in the module graph', (_target, _kind, conditions) => {
    const entry = resolveExport(exportsField, './web', conditions);

    expect(entry).toMatch(/^\.\/dist\/(esm|cjs)\/web\/index\.js$/);
    const graph = graphOf(entry!);
    expect(graph.files.length).toBeGreaterThan(5);
    expect(graph.external).toEqual([]);
    for (const file of graph.files) expect(nodeTraces(file)).toEqual({ file, usesBuffer: false, mentionsNode: false });
  });

  it('declares /web with types that need neither @types/node nor Buffer (the same declarations under every condition)', () => {
    const types = new Set(
      Object.values(NON_NODE_CONDITIONS)
        .concat([['node']])
        .flatMap((conditions) => [
          resolveExport(exportsField, './web', [...conditions, 'types', 'import']),
          resolveExport(exportsField, './web', [...conditions, 'types', 'require']),
        ]),
    );

    expect([...types].sort()).toEqual(['./dist/cjs/web/index.d.ts', './dist/esm/web/index.d.ts']);
    for (const entry of types) {
      const graph = graphOf(entry!);
      expect(graph.external).toEqual([]);
      for (const file of graph.files) expect(nodeTraces(file)).toEqual({ file, usesBuffer: false, mentionsNode: false });
    }
  });

  it('gives Node (and Bun, which sets the node condition) the node:crypto build', () => {
    expect(resolveExport(exportsField, './web', ['node', 'import'])).toBe('./dist/esm/web/node.js');
    expect(resolveExport(exportsField, './web', ['bun', 'node', 'require'])).toBe('./dist/cjs/web/node.js');
  });
});

function runOn(runtime: Runtime): { outcomes: Record<string, any>; output: string } {
  const env = { ...process.env, NO_COLOR: '1', DENO_DIR: join(workDir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1' };
  let result;
  if (runtime.name === 'workerd') {
    // workerd resolves no packages: resolve /web with its conditions, as wrangler does, and embed every module of the graph by name.
    const dir = join(workDir, 'workerd');
    const entry = resolveExport(exportsField, './web', ['workerd', 'worker', 'browser', 'import'])!;
    const graph = graphOf(entry).files.map((file) => `pkg/${file}`);
    for (const file of graph) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      copyFileSync(join(installed, file.slice('pkg/'.length)), join(dir, file));
    }
    writeFileSync(join(dir, 'web-entry.js'), `export * from './pkg/${entry.replace(/^\.\//, '')}';\n`);
    for (const file of ['worker.mjs', 'cases.mjs']) copyFileSync(join(runnerDir, file), join(dir, file));
    copyFileSync(deliveryPath, join(dir, 'delivery.json'));
    const modules = ['worker.mjs', 'cases.mjs', 'web-entry.js', ...graph].map((file) => `(name = "${file}", esModule = embed "${file}")`).join(',\n    ');
    // No compatibilityFlags: in particular no nodejs_compat, so node: modules and Buffer do not exist.
    writeFileSync(
      join(dir, 'config.capnp'),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = ( services = [ (name = "main", worker = .worker) ] );
const worker :Workerd.Worker = (
  modules = [
    ${modules}
  ],
  bindings = [ (name = "DELIVERY", text = embed "delivery.json") ],
  compatibilityDate = "2025-01-01",
);
`,
    );
    result = spawnSync(runtime.bin!, ['test', 'config.capnp'], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
  } else {
    // Deno reads the project's package.json and resolves the package from its node_modules (no deno.json).
    const args = { node: [], bun: [], deno: ['run', '--allow-read', '--allow-env'] }[runtime.name];
    result = spawnSync(runtime.bin!, [...args, join(consumer, 'cli.mjs'), deliveryPath], { cwd: consumer, env, encoding: 'utf8', timeout: 30_000 });
  }
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  if (result.error || result.status !== 0) throw new Error(`${runtime.name} exited with ${result.status ?? result.error}:\n${output}`);
  const line = output
    .split('\n')
    .map((l) => l.replace(/^.*?OUTCOMES /, ''))
    .find((l) => l.startsWith('{"runtime"'));
  if (line === undefined) throw new Error(`${runtime.name} printed no outcomes:\n${output}`);
  return { outcomes: JSON.parse(line), output };
}

describe.each(RUNTIMES)('/web on $name', (runtime) => {
  if (runtime.bin === undefined) {
    // Skipped only when the binary is absent; say how to get it.
    it.skip(`skipped: no ${runtime.name} binary in node_modules/.bin (${runtime.install})`, () => undefined);
    return;
  }
  const version = runtime.name === 'node' ? process.version : versionOf(runtime.bin);
  let outcomes: Record<string, any>;
  let data: Record<string, any>;

  beforeAll(() => {
    outcomes = runOn(runtime).outcomes;
    data = JSON.parse(readFileSync(deliveryPath, 'utf8'));
  }, 60_000);

  const failed = (code: string) => ({ ok: false, code, name: 'WebhookError', isWebhookError: true });
  const handlerOutcomes = () => ({
    valid: { status: 204 },
    ranAfterValid: [data.current.id],
    duplicate: { status: 200, body: { status: 'duplicate', event_id: data.current.id } },
    tampered: { status: 401, code: 'invalid_signature' },
    wrongShape: { status: 400, code: 'invalid_payload' },
    ran: [data.current.id],
  });

  it(`(${version}) loads the ${runtime.receiver} build of /web${runtime.name === 'workerd' ? ', without nodejs_compat' : ''}`, () => {
    expect(outcomes.receiverKind).toBe(runtime.receiver);
    if (runtime.name === 'workerd') expect(outcomes.hasBuffer).toBe(false); // no nodejs_compat: a Buffer use would have thrown
  });

  it('createWebhookHandler with the memory store: 204 and the handler ran, 200 duplicate, 401 tampered, 400 wrong shape', () => {
    expect(outcomes.handler).toEqual(handlerOutcomes());
  });

  it('createWebhookHandler with an explicit WebCryptoWebhookReceiver answers the same', () => {
    expect(outcomes.webCryptoHandler).toEqual(handlerOutcomes());
  });

  it('routes with receiver.router(): a failing route releases the key, the retry runs it, then 200 duplicate', () => {
    expect(outcomes.routing).toEqual({
      failing: { threw: 'route failed' },
      retry: { status: 204 },
      duplicate: { status: 200, body: { status: 'duplicate', event_id: data.rotated.id } },
      routed: [`cancelled ${data.rotated.cancelledAt}`, `cancelled ${data.rotated.cancelledAt}`, 'any scheduled.cancelled'],
    });
  });

  it('verifies with WebCrypto as the platform signs, and rejects altered deliveries with the typed error codes', () => {
    expect(outcomes).toEqual(
      expect.objectContaining({
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
        wrongShapeVerify: failed('invalid_payload'),
      }),
    );
  });
});
