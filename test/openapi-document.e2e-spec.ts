import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { OpenAPIObject } from '@nestjs/swagger';
import { buildOpenApiDocumentOffline, serializeOpenApiDocument } from '../apps/api/src/openapi/openapi-offline';
import { BOOKING_EVENT_TYPES } from '../libs/shared/src/events/booking-events';

const ROOT = join(__dirname, '..');
const DOCUMENT_FILE = 'docs/openapi.json';
const CLIENT_TYPES_FILE = 'test/support/api-client/schema.d.ts';
const REGENERATE = 'run `npm run openapi:generate` and commit docs/openapi.json and test/support/api-client/schema.d.ts';
const TOOL_TIMEOUT_MS = 60_000;

type Json = Record<string, any>;

/** Runs a dev tool's CLI with the Node running the tests, offline (no telemetry, no update check). */
async function runTool(script: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1', FORCE_COLOR: '0' };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, script), ...args], {
      cwd: ROOT,
      env,
      timeout: TOOL_TIMEOUT_MS,
      maxBuffer: 64 << 20,
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? String(error), code: typeof e.code === 'number' ? e.code : 1 };
  }
}

function operationsOf(items: Record<string, Json>): Array<{ where: string; operation: Json }> {
  return Object.entries(items).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch'].includes(method))
      .map(([method, operation]) => ({ where: `${method.toUpperCase()} ${path}`, operation })),
  );
}

/** Every schema object in the document, with where it is. */
function schemasOf(node: unknown, where = '#'): Array<{ where: string; schema: Json }> {
  if (!node || typeof node !== 'object') return [];
  const found: Array<{ where: string; schema: Json }> = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'example' || key === 'examples') continue;
    if (key === 'schema' && value && typeof value === 'object') found.push({ where: `${where}/${key}`, schema: value as Json });
    if (key === 'properties' && value && typeof value === 'object') {
      for (const [name, sub] of Object.entries(value)) found.push({ where: `${where}/properties/${name}`, schema: sub as Json });
    }
    found.push(...schemasOf(value, `${where}/${key}`));
  }
  return found;
}

/**
 * The document as a published artefact: generated from the code (never edited by hand), linted,
 * and the source of the typed client the contract test drives the API with.
 */
describe('OpenAPI document', () => {
  let document: OpenAPIObject & Json;

  beforeAll(async () => {
    document = await buildOpenApiDocumentOffline();
  });

  it(`is what the code generates (else ${REGENERATE})`, () => {
    expect(readFileSync(join(ROOT, DOCUMENT_FILE), 'utf8')).toBe(serializeOpenApiDocument(document));
  });

  it(
    `regenerates to the committed client types (else ${REGENERATE})`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'openapi-client-'));
      try {
        const out = join(dir, 'schema.d.ts');
        const run = await runTool('node_modules/openapi-typescript/bin/cli.js', [DOCUMENT_FILE, '--output', out]);
        expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
        expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(ROOT, CLIENT_TYPES_FILE), 'utf8'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    TOOL_TIMEOUT_MS,
  );

  it(
    "passes Redocly's recommended rules with no error and no warning",
    async () => {
      const run = await runTool('node_modules/@redocly/cli/bin/cli.js', ['lint', DOCUMENT_FILE, '--format=json']);
      const report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as {
        totals: { errors: number; warnings: number };
        problems: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }>;
      };
      const problems = report.problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
      expect({ errors: report.totals.errors, warnings: report.totals.warnings, problems }).toEqual({ errors: 0, warnings: 0, problems: [] });
    },
    TOOL_TIMEOUT_MS,
  );

  it('is OpenAPI 3.1 with servers, bearer security, contact and license', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers?.length).toBeGreaterThan(0);
    expect(document.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.security).toEqual([{ bearer: [] }]);
    expect(document.info).toMatchObject({
      title: expect.any(String),
      version: expect.any(String),
      description: expect.any(String),
      contact: expect.any(Object),
      license: expect.any(Object),
    });
    expect(JSON.stringify(document)).not.toContain('"nullable"');
  });

  it('names, tags and summarises every operation, with a camelCase operationId', () => {
    const declared = new Set((document.tags ?? []).filter((t) => t.description).map((t) => t.name));
    const faults = [...operationsOf(document.paths), ...operationsOf(document.webhooks ?? {})].flatMap(({ where, operation }) => [
      ...(/^[a-z][A-Za-z0-9]*$/.test(operation.operationId ?? '') ? [] : [`${where}: operationId ${operation.operationId}`]),
      ...(operation.summary ? [] : [`${where}: no summary`]),
      ...(operation.tags?.length ? [] : [`${where}: no tag`]),
      ...(operation.tags ?? []).filter((tag: string) => !declared.has(tag)).map((tag: string) => `${where}: tag "${tag}" is not declared with a description`),
    ]);
    expect(faults).toEqual([]);
  });

  it('gives every route its request schema, its success with a schema, and problem-details errors', () => {
    const faults = operationsOf(document.paths).flatMap(({ where, operation }) => {
      const out: string[] = [];
      const body = operation.requestBody?.content;
      if (operation.requestBody && !body?.['application/json']?.schema) out.push(`${where}: request body without an application/json schema`);
      const responses = Object.entries(operation.responses as Record<string, Json>);
      const successes = responses.filter(([status]) => /^2/.test(status));
      if (successes.length === 0) out.push(`${where}: no success response`);
      for (const [status, response] of responses) {
        if (!response.description) out.push(`${where} ${status}: no description`);
        if (/^2/.test(status) && status !== '204' && !Object.values(response.content ?? {}).some((c: any) => c.schema))
          out.push(`${where} ${status}: no schema`);
        if (/^4/.test(status) && response.content?.['application/problem+json']?.schema?.$ref !== '#/components/schemas/Problem') {
          out.push(`${where} ${status}: not an application/problem+json Problem`);
        }
      }
      const needs = [
        ...(operation.security?.length === 0 ? [] : ['400', '401', '429']),
        ...(operation.requestBody ? ['400', '413', '415', '422'] : []),
        ...(where.includes('{appId}') ? ['404'] : []),
      ];
      out.push(...needs.filter((status) => !(status in operation.responses)).map((status) => `${where}: ${status} undocumented`));
      return out;
    });
    expect(faults).toEqual([]);
  });

  it('types no field as an object by accident (a `string | null` without `type: String` reflects as Object)', () => {
    const accidents = schemasOf(document)
      .filter(
        ({ schema }) =>
          [schema.type].flat().includes('object') &&
          !schema.properties &&
          schema.additionalProperties === undefined &&
          !schema.allOf &&
          !schema.anyOf &&
          !schema.oneOf &&
          !schema.$ref,
      )
      .map(({ where }) => where);
    expect(accidents).toEqual([]);
  });

  it('describes the five events under webhooks: a POST with the signed body and the X-ApifyCloud headers', () => {
    expect(Object.keys(document.webhooks ?? {}).sort()).toEqual([...BOOKING_EVENT_TYPES].sort());
    for (const [event, item] of Object.entries(document.webhooks ?? {}) as Array<[string, Json]>) {
      const schema = item.post.requestBody.content['application/json'].schema;
      expect((document.components?.schemas?.[schema.$ref.split('/').pop()] as Json | undefined)?.properties?.event).toEqual({ type: 'string', const: event });
      expect(
        item.post.parameters
          .filter((p: Json) => p.in === 'header' && p.required)
          .map((p: Json) => p.name)
          .sort(),
      ).toEqual(['User-Agent', 'X-ApifyCloud-Delivery', 'X-ApifyCloud-Event', 'X-ApifyCloud-Event-Id', 'X-ApifyCloud-Signature', 'X-ApifyCloud-Timestamp']);
    }
  });
});
