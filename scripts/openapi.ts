/**
 * `npm run openapi:write [-- <file>]`: writes the OpenAPI document the API serves at
 * /docs/openapi.json to docs/openapi.json (or <file>), without PostgreSQL or Redis.
 * `npm run openapi:generate` also regenerates the typed client's types from it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildOpenApiDocumentOffline, serializeOpenApiDocument } from '../apps/api/src/openapi/openapi-offline';

async function main(): Promise<void> {
  const file = resolve(process.argv[2] ?? 'docs/openapi.json');
  const document = await buildOpenApiDocumentOffline();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, serializeOpenApiDocument(document));
  const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  console.log(`openapi: wrote ${file} (OpenAPI ${document.openapi}, ${operations} operations, ${Object.keys(document.webhooks ?? {}).length} webhooks)`);
}

main().catch((error: unknown) => {
  console.error('openapi: failed:', error);
  process.exit(1);
});
