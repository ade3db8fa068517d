import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

type Json = Record<string, any>;

const BASE = 'https://scheduled-calls.test/openapi.json';
const COMPONENT_REF = '#/components/schemas/';

export interface DocumentedOperation {
  method: string;
  path: string;
  operationId: string;
  operation: Json;
}

/**
 * Validates HTTP answers and webhook bodies against an OpenAPI 3.1 document with Ajv's JSON Schema
 * 2020-12 (OpenAPI 3.1's schema dialect), formats asserted.
 *
 * Closed by default: every object schema that lists its `properties` and says nothing about
 * `additionalProperties` is treated as `additionalProperties: false`, so a field the code sends
 * and the document does not describe fails too (the document may not lag behind the code).
 * Members of an `allOf` stay open (each describes only part of the object).
 */
export class OpenApiValidator {
  private readonly ajv: Ajv2020;
  private readonly closed: boolean;
  private readonly compiled = new Map<object, ValidateFunction>();

  constructor(
    readonly document: Json,
    { closed = true }: { closed?: boolean } = {},
  ) {
    this.closed = closed;
    this.ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
    addFormats(this.ajv);
    // OpenAPI's own (deprecated, annotation-only) Schema Object field.
    this.ajv.addKeyword('example');
    this.ajv.addSchema({ $id: BASE, $defs: prepare(document.components?.schemas ?? {}, closed) });
  }

  /** Every operation under `paths`. */
  operations(): DocumentedOperation[] {
    return Object.entries(this.document.paths as Json).flatMap(([path, item]) =>
      Object.entries(item as Json)
        .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch'].includes(method))
        .map(([method, operation]) => ({ method, path, operationId: (operation as Json).operationId, operation: operation as Json })),
    );
  }

  /** Problems with the JSON value against a schema of the document (a `$ref` or an inline schema); [] when valid. */
  errors(schema: Json, value: unknown): string[] {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(prepare(schema, this.closed));
      this.compiled.set(schema, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  }

  /** Problems with one HTTP answer of `method path` (the document's path template); [] when it is documented. */
  responseErrors(method: string, path: string, status: number, contentType: string | null, text: string): string[] {
    const operation = this.document.paths?.[path]?.[method.toLowerCase()];
    if (!operation) return [`${method.toUpperCase()} ${path} is not in the document`];
    const responses = operation.responses as Json;
    const response = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
    if (!response) return [`${status} is not a documented answer of ${operation.operationId} (documented: ${Object.keys(responses).join(', ')})`];
    if (!response.content) return text === '' ? [] : [`${operation.operationId} ${status} documents no body, got ${text.slice(0, 200)}`];
    const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
    const content = response.content[mediaType];
    if (!content) return [`${operation.operationId} ${status} answered ${contentType}; documented: ${Object.keys(response.content).join(', ')}`];
    let value: unknown = text;
    if (/[/+]json$/.test(mediaType)) {
      try {
        value = JSON.parse(text);
      } catch {
        return [`${operation.operationId} ${status}: the body is not JSON: ${text.slice(0, 200)}`];
      }
    }
    return this.errors(content.schema, value).map((e) => `${operation.operationId} ${status}: ${e}`);
  }

  /** Problems with one webhook request as a receiver gets it, against the document's `webhooks`; [] when it conforms. */
  webhookErrors(headers: Record<string, string | string[] | undefined>, text: string): string[] {
    const event = String(headers['x-apifycloud-event']);
    const operation = this.document.webhooks?.[event]?.post;
    if (!operation) return [`X-ApifyCloud-Event ${event} is not under webhooks`];
    const errors: string[] = [];
    for (const parameter of operation.parameters ?? []) {
      if (parameter.in !== 'header') continue;
      const value = headers[String(parameter.name).toLowerCase()];
      if (value === undefined) {
        if (parameter.required) errors.push(`header ${parameter.name} is missing`);
        continue;
      }
      errors.push(...this.errors(parameter.schema, value).map((e) => `header ${parameter.name}: ${e}`));
    }
    const mediaType = String(headers['content-type'] ?? '')
      .split(';')[0]
      .trim();
    const content = operation.requestBody?.content?.[mediaType];
    if (!content) return [...errors, `content type ${mediaType} is not documented for ${event}`];
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [...errors, 'the body is not JSON'];
    }
    return [...errors, ...this.errors(content.schema, body).map((e) => `body: ${e}`)];
  }
}

/** A deep copy with component references made absolute, and objects closed (see the class comment). */
function prepare(schema: unknown, closed: boolean, inAllOf = false): any {
  if (Array.isArray(schema)) return schema.map((item) => prepare(item, closed, inAllOf));
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema as Json)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT_REF)) out[key] = `${BASE}#/$defs/${value.slice(COMPONENT_REF.length)}`;
    else if (key === 'properties' || key === '$defs' || key === 'patternProperties') {
      out[key] = Object.fromEntries(Object.entries(value as Json).map(([name, sub]) => [name, prepare(sub, closed)]));
    } else if (key === 'allOf') out[key] = prepare(value, closed, true);
    else if (key === 'examples' || key === 'example' || key === 'enum' || key === 'const' || key === 'default') out[key] = value;
    else out[key] = prepare(value, closed);
  }
  if (closed && !inAllOf && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}
