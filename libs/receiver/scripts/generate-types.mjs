// Generates src/core/generated/scheduled-call.ts from the platform's OpenAPI document (docs/openapi.json):
// the booking record (`components.schemas.ScheduledCall`), the statuses each event in `webhooks`
// leaves the call in, and the tables the receiver's payload checks read. The output is committed;
// test/generated-types.spec.ts regenerates it and fails when it differs, so the package's types
// cannot drift from the records the platform sends.
//
//   node libs/receiver/scripts/generate-types.mjs            write the file
//   node libs/receiver/scripts/generate-types.mjs --check    exit 1 when the committed file is stale
//   ... --document <path>                                     read another OpenAPI document
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = join(packageDir, '..', '..');
export const DOCUMENT = join(repoDir, 'docs', 'openapi.json');
export const OUTPUT = join(packageDir, 'src', 'core', 'generated', 'scheduled-call.ts');

function resolve(doc, schema) {
  let current = schema;
  while (current && typeof current.$ref === 'string') {
    const path = current.$ref.replace(/^#\//, '').split('/');
    current = path.reduce((node, key) => node?.[key], doc);
    if (current === undefined) throw new Error(`Unresolved $ref ${schema.$ref}`);
  }
  return current;
}

const pascal = (name) => name.replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase());
const literal = (value) => `'${String(value).replace(/'/g, "\\'")}'`;

/** The JSON types a schema admits, as the receiver's runtime checks name them. */
function kinds(doc, schema) {
  const s = resolve(doc, schema);
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) return [...new Set((s.anyOf ?? s.oneOf).flatMap((x) => kinds(doc, x)))];
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return types.map((t) => (t === 'integer' ? 'number' : t));
}

function comment(description, indent) {
  return description ? `${indent}/** ${description.replace(/\*\//g, '* /')} */\n` : '';
}

/** Emits one interface per object schema with properties; nested ones are named after their property. */
function emitObject(doc, name, schema, out, typeParams = '', override = {}) {
  const s = resolve(doc, schema);
  const required = new Set(s.required ?? []);
  const lines = [];
  for (const [key, raw] of Object.entries(s.properties ?? {})) {
    const prop = resolve(doc, raw);
    lines.push(
      `${comment(prop.description, '  ')}  ${key}${required.has(key) ? '' : '?'}: ${override[key] ?? tsType(doc, `${name}${pascal(key)}`, prop, out)};`,
    );
  }
  out.push(`${comment(s.description, '')}export interface ${name}${typeParams} {\n${lines.join('\n')}\n}`);
}

function tsType(doc, name, schema, out) {
  const s = resolve(doc, schema);
  const variants = s.anyOf ?? s.oneOf;
  if (Array.isArray(variants)) {
    return variants.map((v) => tsType(doc, name, v, out)).join(' | ');
  }
  if (Array.isArray(s.enum)) return s.enum.map(literal).join(' | ');
  if (s.const !== undefined) return literal(s.const);
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return types
    .map((t) => {
      switch (t) {
        case 'string':
          return 'string';
        case 'integer':
        case 'number':
          return 'number';
        case 'boolean':
          return 'boolean';
        case 'null':
          return 'null';
        case 'array':
          return `Array<${s.items ? tsType(doc, `${name}Item`, s.items, out) : 'unknown'}>`;
        case 'object':
          if (s.properties && Object.keys(s.properties).length > 0) {
            emitObject(doc, name, s, out);
            return name;
          }
          return 'Record<string, unknown>';
        default:
          throw new Error(`Unsupported schema type ${JSON.stringify(t)} for ${name}`);
      }
    })
    .join(' | ');
}

/** The status enum of `payload.scheduled_call` in one webhook's request body. */
function statusesAfter(doc, event) {
  const body = resolve(doc, doc.webhooks[event].post.requestBody.content['application/json'].schema);
  const call = resolve(doc, resolve(doc, body.properties.payload).properties.scheduled_call);
  // The last part narrows the status (the first is the whole record, whose enum lists every status).
  for (const part of [...(call.allOf ?? [call])].reverse()) {
    const status = resolve(doc, part).properties?.status;
    if (status && Array.isArray(resolve(doc, status).enum)) return resolve(doc, status).enum;
  }
  throw new Error(`No status enum for ${event}`);
}

export function generate(doc) {
  const record = resolve(doc, doc.components.schemas.ScheduledCall);
  const statusEnum = resolve(doc, record.properties.status).enum;
  const events = Object.keys(doc.webhooks);
  const out = [];
  const nested = [];
  emitObject(doc, 'ScheduledCall', record, nested, '<S extends ScheduledCallStatus = ScheduledCallStatus>', { status: 'S' });
  const main = nested.pop();
  const fieldKinds = (schema) =>
    (resolve(doc, schema).required ?? [])
      .map((key) => `  [${literal(key)}, ${literal(kinds(doc, resolve(doc, schema).properties[key]).join('|'))}],`)
      .join('\n');
  const agentSchema = (resolve(doc, record.properties.agent).anyOf ?? []).map((x) => resolve(doc, x)).find((x) => x.type === 'object');
  out.push(
    `// Generated by libs/receiver/scripts/generate-types.mjs from ${relative(repoDir, DOCUMENT)}. Do not edit:\n` +
      "// run `npm run receiver:generate-types` after the platform's schema changes.",
    `export type ScheduledCallStatus = ${statusEnum.map(literal).join(' | ')};`,
    ...nested,
    main,
    '/** The statuses the booking can be in right after each event (the `webhooks` of the OpenAPI document). */\n' +
      `export interface StatusAfterEvent {\n${events.map((e) => `  ${literal(e)}: ${statusesAfter(doc, e).map(literal).join(' | ')};`).join('\n')}\n}`,
    '/** Every event type the platform sends, in the order of the OpenAPI document. */\n' +
      `export const GENERATED_EVENT_TYPES = [${events.map(literal).join(', ')}] as const;`,
    `export const STATUSES_AFTER_EVENT: { readonly [E in keyof StatusAfterEvent]: readonly StatusAfterEvent[E][] } = {\n${events.map((e) => `  ${literal(e)}: [${statusesAfter(doc, e).map(literal).join(', ')}],`).join('\n')}\n};`,
    '/** Required fields of `scheduled_call` and the JSON types each admits (`number` covers integers). */\n' +
      `export const SCHEDULED_CALL_REQUIRED: ReadonlyArray<readonly [string, string]> = [\n${fieldKinds(record)}\n];`,
    `export const SCHEDULED_CALL_GUEST_REQUIRED: ReadonlyArray<readonly [string, string]> = [\n${fieldKinds(record.properties.guest)}\n];`,
    `export const SCHEDULED_CALL_AGENT_REQUIRED: ReadonlyArray<readonly [string, string]> = [\n${agentSchema ? fieldKinds(agentSchema) : ''}\n];`,
  );
  return `${out.join('\n\n')}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // --document <path> reads another document (the staleness test uses it to show a changed schema is caught).
  const at = process.argv.indexOf('--document');
  const document = at > 0 && process.argv[at + 1] ? process.argv[at + 1] : DOCUMENT;
  const text = generate(JSON.parse(readFileSync(document, 'utf8')));
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(OUTPUT, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== text) {
      console.error(`${relative(repoDir, OUTPUT)} is stale: run \`npm run receiver:generate-types\`.`);
      process.exit(1);
    }
  } else {
    writeFileSync(OUTPUT, text);
    console.error(`wrote ${relative(repoDir, OUTPUT)}`);
  }
}
