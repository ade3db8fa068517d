import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { asCommonJsModule, asEsModule, extractTsSnippets, READER_GLOBALS } from './readme-snippets';
import { packageDir, packPackage } from './support/packed-package';

/**
 * The package as users get it: packed (support/packed-package.ts builds it into a private folder, so
 * this never rewrites the dist/ other specs or the benchmark read), installed into a fresh project
 * outside the monorepo, then loaded with require and import, compiled against with tsc (the README's
 * snippets too), and linted with publint and Are The Types Wrong, all offline.
 */
const tsc = require.resolve('typescript/bin/tsc');
// TypeScript 6 deprecates moduleResolution node10 but CommonJS projects still use it; TypeScript 5 rejects the '6.0' value.
const node10Deprecation = Number(require('typescript/package.json').version.split('.')[0]) >= 6 ? { ignoreDeprecations: '6.0' } : {};
/** Where `name` is installed, found along the usual node_modules lookup (exports maps may hide package.json). */
function installedDir(name: string): string {
  const dir = (require.resolve.paths(name) ?? []).map((base) => join(base, name)).find((candidate) => existsSync(join(candidate, 'package.json')));
  if (dir === undefined) throw new Error(`${name} is not installed`);
  return dir;
}
const publint = join(installedDir('publint'), 'src/cli.js');
const attw = join(installedDir('@arethetypeswrong/cli'), 'dist/index.js');
const run = (command: string, args: string[], options: ExecFileSyncOptions = {}) =>
  execFileSync(command, args, { encoding: 'utf8', stdio: 'pipe', timeout: 120_000, ...options }) as string;

const SUBPATHS = ['', '/express', '/fastify', '/nestjs', '/web', '/testing'];
/**
 * `/web` has two builds behind export conditions: the portable WebCrypto one (no node: import, no
 * Buffer) for every runtime condition below and the fallback, and the node:crypto one for `node`.
 */
const WEB_PORTABLE_CONDITIONS = ['workerd', 'worker', 'edge-light', 'browser', 'deno'];
/**
 * Optional peers the code never imports, kept for the version range they state:
 * the Express middleware only touches node:http types, but it is written for (and tested on) Express 4 and 5.
 */
const PEERS_WITHOUT_IMPORT = ['express'];

describe('packed tarball', () => {
  let workDir: string;
  let consumer: string;
  let tarball: string;

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'webhook-receiver-pack-'));
    tarball = packPackage(workDir).tarball;
    consumer = join(workDir, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    // No runtime dependencies and optional peers only, so this works offline.
    run('npm', ['install', tarball, '--no-audit', '--no-fund', '--offline', '--no-package-lock'], { cwd: consumer });
    // The optional peers (and type packages) a real app would have, taken from this workspace.
    // ioredis and supertest only for the README's snippets (its Redis client and its test example).
    for (const name of [
      '@nestjs/common',
      '@nestjs/core',
      'rxjs',
      'reflect-metadata',
      'fastify',
      'express',
      'ioredis',
      'supertest',
      '@types/node',
      '@types/express',
      '@types/supertest',
    ]) {
      const target = join(consumer, 'node_modules', name);
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(installedDir(name), target, 'dir');
    }
  }, 180_000);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('ships only the build, README, CHANGELOG and LICENSE', () => {
    const listing = run('tar', ['-tzf', tarball]).split('\n').filter(Boolean);

    expect(listing).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/README.md',
        'package/CHANGELOG.md',
        'package/LICENSE',
        'package/dist/cjs/index.js',
        'package/dist/esm/index.js',
        'package/dist/cjs/index.d.ts',
        'package/dist/esm/index.d.ts',
      ]),
    );
    expect(listing.filter((file) => !/^package\/(dist\/|package\.json$|README\.md$|CHANGELOG\.md$|LICENSE$)/.test(file))).toEqual([]);
    expect(listing.filter((file) => /\.spec\.|\/src\/|\/test\//.test(file))).toEqual([]);
  });

  it('passes publint in strict mode', () => {
    const output = run(process.execPath, [publint, 'run', tarball, '--strict']);

    expect(output).not.toMatch(/error|warning|suggestion/i);
  });

  it('passes Are The Types Wrong for every entry point under node10, node16 (CJS and ESM) and bundler resolution', () => {
    // --no-definitely-typed keeps it offline; attw exits non-zero when it finds a problem, the JSON says which.
    let output: string;
    try {
      output = run(process.execPath, [attw, tarball, '--format', 'json', '--no-definitely-typed', '--profile', 'strict'], { cwd: workDir });
    } catch (error) {
      output = (error as { stdout?: string }).stdout ?? '';
      if (!output.trim().startsWith('{')) throw error;
    }
    const report = JSON.parse(output) as { analysis: { entrypoints: Record<string, unknown>; problems: unknown[] } };

    expect(report.analysis.problems).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual([...SUBPATHS.map((sub) => `.${sub}`), './package.json'].sort());
  });

  it('declares "type": "commonjs" at the root and "type": "module" for the ESM half', () => {
    const installed = join(consumer, 'node_modules/@apifycloud/webhook-receiver');
    const typeOf = (file: string) => (JSON.parse(readFileSync(join(installed, file), 'utf8')) as { type?: string }).type;

    expect(typeOf('package.json')).toBe('commonjs');
    expect(typeOf('dist/cjs/package.json')).toBe('commonjs');
    expect(typeOf('dist/esm/package.json')).toBe('module');
  });

  it('declares as an optional peer every package its build imports, and no other', () => {
    const installed = join(consumer, 'node_modules/@apifycloud/webhook-receiver');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { name: string; peerDependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const imported = new Set<string>();
    for (const file of readdirSync(join(installed, 'dist'), { recursive: true, encoding: 'utf8' })) {
      if (!/\.(js|d\.ts)$/.test(file)) continue;
      const source = readFileSync(join(installed, 'dist', file), 'utf8');
      for (const [, specifier] of source.matchAll(/(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*|^import\s+)['"]([^'"]+)['"]/gm)) {
        if (specifier!.startsWith('.') || specifier!.startsWith('node:') || builtins.has(specifier!)) continue;
        const name = specifier!
          .split('/')
          .slice(0, specifier!.startsWith('@') ? 2 : 1)
          .join('/');
        if (name !== manifest.name) imported.add(name);
      }
    }

    expect([...imported].sort()).toEqual(
      Object.keys(manifest.peerDependencies)
        .filter((peer) => !PEERS_WITHOUT_IMPORT.includes(peer))
        .sort(),
    );
    expect(imported).toContain('rxjs');
  });

  it('loads every subpath with require and with import, from separate CJS and ESM builds', () => {
    const script = `
      const subpaths = ${JSON.stringify(SUBPATHS)};
      const result = {};
      for (const sub of subpaths) {
        const cjs = require('@apifycloud/webhook-receiver' + sub);
        result[sub || '.'] = { cjs: Object.keys(cjs).sort(), cjsFile: require.resolve('@apifycloud/webhook-receiver' + sub) };
      }
      (async () => {
        for (const sub of subpaths) {
          const esm = await import('@apifycloud/webhook-receiver' + sub);
          result[sub || '.'].esm = Object.keys(esm).sort();
          result[sub || '.'].esmFile = import.meta?.resolve ? undefined : undefined;
        }
        console.log(JSON.stringify(result));
      })();
    `.replace('import.meta?.resolve ? undefined : undefined', 'undefined');
    writeFileSync(join(consumer, 'load.cjs'), script);

    const loaded = JSON.parse(run(process.execPath, ['load.cjs'], { cwd: consumer })) as Record<string, { cjs: string[]; esm: string[]; cjsFile: string }>;

    for (const sub of SUBPATHS) {
      const entry = loaded[sub || '.']!;
      expect(entry.cjs.length).toBeGreaterThan(0);
      expect(entry.esm.filter((name) => name !== 'default')).toEqual(entry.cjs.filter((name) => name !== 'default'));
      expect(entry.cjsFile).toContain(join('dist', 'cjs'));
    }
    expect(loaded['.']!.cjs).toEqual(
      expect.arrayContaining(['verifyWebhook', 'WebhookVerifier', 'WebhookError', 'MemoryIdempotencyStore', 'RedisIdempotencyStore']),
    );
    expect(loaded['/express']!.cjs).toEqual(expect.arrayContaining(['apifyCloudWebhook', 'captureRawBody']));
    expect(loaded['/nestjs']!.cjs).toEqual(expect.arrayContaining(['ApifyCloudWebhookModule', 'ApifyCloudWebhook', 'WebhookEvent']));
  });

  it('resolves /web to the WebCrypto build under the runtime conditions and to the node:crypto build on Node, with require and import', () => {
    writeFileSync(
      join(consumer, 'web-build.cjs'),
      `
      const kind = (web) => web.createWebhookReceiver({ secret: 'whsec_probe' }).constructor.name;
      const cjs = require('@apifycloud/webhook-receiver/web');
      import('@apifycloud/webhook-receiver/web').then((esm) => console.log(JSON.stringify({
        cjs: kind(cjs), esm: kind(esm), file: require.resolve('@apifycloud/webhook-receiver/web').split('/dist/')[1],
      })));
    `,
    );
    // Node's own resolver with each runtime's condition added (--conditions), so the key order of the exports map is what is tested.
    const buildFor = (condition?: string) =>
      JSON.parse(run(process.execPath, [...(condition ? ['--conditions', condition] : []), 'web-build.cjs'], { cwd: consumer })) as {
        cjs: string;
        esm: string;
        file: string;
      };

    expect(buildFor()).toEqual({ cjs: 'WebhookReceiver', esm: 'WebhookReceiver', file: 'cjs/web/node.js' });
    for (const condition of WEB_PORTABLE_CONDITIONS) {
      expect({ condition, ...buildFor(condition) }).toEqual({
        condition,
        cjs: 'WebCryptoWebhookReceiver',
        esm: 'WebCryptoWebhookReceiver',
        file: 'cjs/web/index.js',
      });
    }
  });

  it('verifies what its testing helper signs, through the ESM and the CJS builds', () => {
    writeFileSync(
      join(consumer, 'roundtrip.mjs'),
      `
      import { createRequire } from 'node:module';
      import { verifyWebhook } from '@apifycloud/webhook-receiver';
      import { signWebhook, generateWebhookSecret } from '@apifycloud/webhook-receiver/testing';
      const require = createRequire(import.meta.url);
      const cjs = require('@apifycloud/webhook-receiver');
      const secret = generateWebhookSecret();
      const d = signWebhook({ secret, event: 'scheduled.cancelled' });
      const a = verifyWebhook(d.rawBody, d.headers, { secret });
      const b = cjs.verifyWebhook(d.rawBody, d.headers, { secret });
      let code;
      try { cjs.verifyWebhook(d.rawBody, d.headers, { secret: generateWebhookSecret() }); } catch (e) { code = e.code; }
      console.log(JSON.stringify({ esm: a.event.event, cjs: b.event.payload.scheduled_call.status, code }));
    `,
    );

    const output = JSON.parse(run(process.execPath, ['roundtrip.mjs'], { cwd: consumer }));

    expect(output).toEqual({ esm: 'scheduled.cancelled', cjs: 'cancelled', code: 'invalid_signature' });
  });

  it('type-checks an ESM, a CommonJS and a bundler-resolved consumer with tsc --noEmit', () => {
    const consumerSource = (importLine: (sub: string) => string) => `
      ${importLine('')}
      ${importLine('/express')}
      ${importLine('/fastify')}
      ${importLine('/nestjs')}
      ${importLine('/web')}
      ${importLine('/testing')}

      const secret: string = 'whsec_x';
      export function onEvent(event: core.ApifyCloudWebhookEvent): string {
        switch (event.event) {
          case 'scheduled.cancelled': {
            const status: 'cancelled' = event.payload.scheduled_call.status;
            return status + (event.payload.scheduled_call.cancellation_reason ?? '');
          }
          case 'scheduled.no_show':
            return event.payload.scheduled_call.status;
          default:
            return event.payload.scheduled_call.version.toFixed(0);
        }
      }
      const webhook: core.VerifiedWebhook = core.verifyWebhook(Buffer.from('{}'), { 'x-apifycloud-signature': 'sha256=' }, { secret, toleranceMs: 60_000 });
      const code: core.WebhookErrorCode = new core.WebhookError('stale_delivery', 'x').code;
      const store: core.IdempotencyStore = new core.RedisIdempotencyStore({ client: { call: async () => 'OK' } });
      export const middleware = express.apifyCloudWebhook({ secret, idempotency: store, onStoreError: 'fail-open' });
      export const plugin = fastify.apifyCloudWebhookPlugin;
      export const mod = nestjs.ApifyCloudWebhookModule.forRoot({ secret });
      export const handler: (request: Request) => Promise<Response> = web.createWebhookHandler({ secret, handler: async (w) => { void w.event.id; } });
      // A receiver from the root entry (shared store, configuration and routes): the handler sees its VerifiedWebhook.
      const shared = new core.WebhookReceiver({ secret }).on('scheduled.cancelled', (event) => { const at: string = event.payload.scheduled_call.cancelled_at; void at; });
      export const sharedHandler = web.createWebhookHandler({ receiver: shared, handler: (w) => { const bytes: Buffer = w.rawBody; void bytes; } });
      export const routedHandler = web.createWebhookHandler({ receiver: shared, handler: shared.router() });
      export const portable = web.createWebhookReceiver({ secret }).on('scheduled.no_show', (event, w) => { const at: string = event.payload.scheduled_call.no_show_at; const raw: Uint8Array = w.rawBody; void at; void raw; });
      export const signed = testing.signWebhook({ secret, event: 'scheduled.rescheduled', scheduledCall: { reschedule_count: 2 } });
      void webhook; void code;
    `;
    const alias: Record<string, string> = {
      '': 'core',
      '/express': 'express',
      '/fastify': 'fastify',
      '/nestjs': 'nestjs',
      '/web': 'web',
      '/testing': 'testing',
    };
    writeFileSync(
      join(consumer, 'consumer.mts'),
      consumerSource((sub) => `import * as ${alias[sub]} from '@apifycloud/webhook-receiver${sub}';`),
    );
    writeFileSync(
      join(consumer, 'consumer.cts'),
      consumerSource((sub) => `import ${alias[sub]} = require('@apifycloud/webhook-receiver${sub}');`),
    );
    writeFileSync(
      join(consumer, 'bundler.ts'),
      consumerSource((sub) => `import * as ${alias[sub]} from '@apifycloud/webhook-receiver${sub}';`),
    );
    writeFileSync(
      join(consumer, 'node10.ts'),
      consumerSource((sub) => `import * as ${alias[sub]} from '@apifycloud/webhook-receiver${sub}';`),
    );
    const base = { strict: true, target: 'ES2022', lib: ['ES2022'], types: ['node'], noEmit: true, experimentalDecorators: true };
    writeFileSync(
      join(consumer, 'tsconfig.node.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'nodenext', moduleResolution: 'nodenext' }, files: ['consumer.mts', 'consumer.cts'] }),
    );
    writeFileSync(
      join(consumer, 'tsconfig.bundler.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'esnext', moduleResolution: 'bundler', skipLibCheck: false }, files: ['bundler.ts'] }),
    );
    // Pre-exports resolution (CommonJS projects that never moved to node16): subpaths resolve through typesVersions.
    writeFileSync(
      join(consumer, 'tsconfig.node10.json'),
      JSON.stringify({
        compilerOptions: { ...base, ...node10Deprecation, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
        files: ['node10.ts'],
      }),
    );

    // skipLibCheck stays off for the nodenext run too: the shipped .d.ts files must be clean themselves.
    const compile = (project: string) => {
      try {
        return run(process.execPath, [tsc, '-p', project], { cwd: consumer });
      } catch (error) {
        throw new Error(`tsc -p ${project} failed:\n${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`, {
          cause: error,
        });
      }
    };

    expect(compile('tsconfig.node.json')).toBe('');
    expect(compile('tsconfig.bundler.json')).toBe('');
    expect(compile('tsconfig.node10.json')).toBe('');
  });

  it('type-checks a Cloudflare Workers consumer of /web with no @types/node (workerd conditions, skipLibCheck off)', () => {
    const dir = join(consumer, 'worker');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'worker.ts'),
      `
      import { createWebhookHandler, createWebhookReceiver, isWebhookError, MemoryIdempotencyStore, verifyWebhookAsync, WebCryptoWebhookReceiver, type WebVerifiedWebhook } from '@apifycloud/webhook-receiver/web';
      interface Env { APIFYCLOUD_WEBHOOK_SECRET: string }

      const receiver = createWebhookReceiver({ secret: 'whsec_x', idempotency: new MemoryIdempotencyStore() })
        .on('scheduled.cancelled', (event, webhook) => {
          const at: string = event.payload.scheduled_call.cancelled_at;
          const raw: Uint8Array = webhook.rawBody;
          void at; void raw;
        });
      export default { fetch: createWebhookHandler({ receiver, handler: receiver.router() }) };
      export const plain: (request: Request) => Promise<Response> = createWebhookHandler({ secret: 'whsec_x', handler: async (webhook: WebVerifiedWebhook) => { void webhook.event.id; } });
      export const explicit = createWebhookHandler({ receiver: new WebCryptoWebhookReceiver({ secret: 'whsec_x' }), handler: (webhook) => new Response(webhook.eventId) });
      export async function check(request: Request, env: Env): Promise<string> {
        try {
          return (await verifyWebhookAsync(new Uint8Array(await request.arrayBuffer()), request.headers, { secrets: [env.APIFYCLOUD_WEBHOOK_SECRET] })).id;
        } catch (error) {
          if (isWebhookError(error)) return error.code;
          throw error;
        }
      }
    `,
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          types: [],
          noEmit: true,
          skipLibCheck: false,
          module: 'esnext',
          moduleResolution: 'bundler',
          customConditions: ['workerd', 'worker', 'browser'],
        },
        files: ['worker.ts'],
      }),
    );

    let output: string;
    try {
      output = run(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: dir });
    } catch (error) {
      output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}` || String(error);
    }
    expect(output).toBe('');
  });

  it("compiles the README's TypeScript snippets under strict, as ESM (nodenext) and as CommonJS (node10)", () => {
    const snippets = extractTsSnippets(readFileSync(join(packageDir, 'README.md'), 'utf8'));
    const dir = join(consumer, 'readme');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'reader-globals.d.ts'), READER_GLOBALS);
    const esm: string[] = [];
    const cjs: string[] = [];
    for (const snippet of snippets) {
      // Named after the README line, so tsc's errors point at the snippet.
      esm.push(`readme-line-${snippet.line}.mts`);
      writeFileSync(join(dir, esm.at(-1)!), asEsModule(snippet));
      cjs.push(`readme-line-${snippet.line}.ts`);
      writeFileSync(join(dir, cjs.at(-1)!), asCommonJsModule(snippet));
    }
    const base = { strict: true, target: 'ES2022', lib: ['ES2022'], types: ['node'], noEmit: true, experimentalDecorators: true };
    writeFileSync(
      join(dir, 'tsconfig.esm.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'nodenext', moduleResolution: 'nodenext' }, files: ['reader-globals.d.ts', ...esm] }),
    );
    writeFileSync(
      join(dir, 'tsconfig.cjs.json'),
      JSON.stringify({
        compilerOptions: { ...base, ...node10Deprecation, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
        files: ['reader-globals.d.ts', ...cjs],
      }),
    );
    const compile = (project: string) => {
      try {
        return run(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: dir });
      } catch (error) {
        return `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}` || String(error);
      }
    };

    expect(snippets.length).toBeGreaterThanOrEqual(10);
    expect(compile('tsconfig.esm.json')).toBe('');
    expect(compile('tsconfig.cjs.json')).toBe('');
  });

  it('makes tsc reject a consumer that ignores the narrowing on event', () => {
    writeFileSync(
      join(consumer, 'wrong.mts'),
      `
      import type { ApifyCloudWebhookEvent } from '@apifycloud/webhook-receiver';
      export function f(event: ApifyCloudWebhookEvent): 'confirmed' {
        if (event.event === 'scheduled.cancelled') return event.payload.scheduled_call.status;
        return 'confirmed';
      }
    `,
    );
    writeFileSync(
      join(consumer, 'tsconfig.wrong.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], noEmit: true },
        files: ['wrong.mts'],
      }),
    );

    expect(() => run(process.execPath, [tsc, '-p', 'tsconfig.wrong.json'], { cwd: consumer })).toThrow();
  });

  it('declares what users read: license, engines, optional peers, no runtime dependencies', () => {
    const manifest = JSON.parse(readFileSync(join(consumer, 'node_modules/@apifycloud/webhook-receiver/package.json'), 'utf8'));

    expect(manifest.license).toBe('MIT');
    expect(manifest.engines.node).toBeDefined();
    expect(manifest.dependencies ?? {}).toEqual({});
    for (const peer of Object.keys(manifest.peerDependencies)) expect(manifest.peerDependenciesMeta[peer].optional).toBe(true);
  });
});
