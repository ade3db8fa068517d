/**
 * The README's ```ts blocks, turned into files a consumer project can type-check.
 * Used by package.spec.ts: a snippet that does not compile under `strict` is a snippet users copy and fix.
 */

export interface ReadmeSnippet {
  /** 1-based line of the opening fence, so a failure points at the README. */
  line: number;
  code: string;
}

/** Every ```ts block, including those indented inside list items (the indent is removed). */
export function extractTsSnippets(markdown: string): ReadmeSnippet[] {
  const lines = markdown.split('\n');
  const snippets: ReadmeSnippet[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)```ts\s*$/.exec(lines[index]!);
    if (!open) continue;
    const indent = open[1]!;
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length && lines[end]!.trimEnd() !== `${indent}\`\`\``; end++) {
      body.push(lines[end]!.startsWith(indent) ? lines[end]!.slice(indent.length) : lines[end]!);
    }
    if (end === lines.length) throw new Error(`README line ${index + 1}: unclosed \`\`\`ts block`);
    snippets.push({ line: index + 1, code: body.join('\n') });
    index = end;
  }
  return snippets;
}

/**
 * What the snippets leave to the reader (their own handler, Redis client, app...), declared once.
 * Library and framework names are deliberately absent: a snippet must import what it uses.
 */
export const READER_GLOBALS = `
declare function handle(event: import('@apifycloud/webhook-receiver').ApifyCloudWebhookEvent): Promise<void>;
declare const event: import('@apifycloud/webhook-receiver').ApifyCloudWebhookEvent;
declare const redis: import('ioredis').Redis;
declare const rawBodyBuffer: Buffer;
declare const headers: import('node:http').IncomingHttpHeaders;
declare function respond(status: number, body: unknown): void;
declare const app: import('express').Express;
declare const fastify: import('fastify').FastifyInstance;
declare const secret: string;
declare const handler: import('express').RequestHandler;
declare const request: typeof import('supertest');
`;

/** As an ES module (`.mts` under nodenext): top-level await is fine. */
export function asEsModule(snippet: ReadmeSnippet): string {
  return `${snippet.code}\nexport {};\n`;
}

/**
 * As a CommonJS module (module: commonjs), where top-level await does not exist: a snippet that awaits at
 * column 0 gets its statements wrapped in an async function, imports kept at the top, as a CJS user would.
 */
export function asCommonJsModule(snippet: ReadmeSnippet): string {
  const lines = snippet.code.split('\n');
  if (!lines.some((line) => /^(?:\S.*)?\bawait\b/.test(line) && !/^\s/.test(line))) return `${snippet.code}\nexport {};\n`;
  const imports: string[] = [];
  const body: string[] = [];
  let inImport = false;
  for (const line of lines) {
    if (inImport || /^import\s/.test(line)) {
      imports.push(line);
      inImport = !/;\s*(?:\/\/.*)?$/.test(line);
    } else {
      body.push(line);
    }
  }
  return `${imports.join('\n')}\nexport async function readmeSnippet(): Promise<void> {\n${body.join('\n')}\n}\n`;
}
