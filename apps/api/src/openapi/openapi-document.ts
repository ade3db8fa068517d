import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { completeProblemResponses } from './openapi-problems';
import { sharedSchemas } from './openapi-schemas';
import { WEBHOOKS_TAG, webhooksObject } from './openapi-webhooks';

/** Tags in the order the documentation shows them. */
const TAGS: Record<string, string> = {
  apps: 'Video apps (tenants). Creating and listing apps needs the operator token.',
  'api keys': "An app's API keys: list, issue, revoke.",
  'scheduled calls': 'Bookings and their transitions. Every change that fires an event is delivered to the subscriptions as a webhook.',
  'webhook subscriptions': 'Where and which events are delivered, with status, health, pause and resume, secret rotation and recovery.',
  'webhook deliveries': 'The delivery log: one delivery with every attempt, and a manual retry.',
  [WEBHOOKS_TAG]: 'What your endpoint receives: one signed POST per event and subscription (see `webhooks`).',
  health: 'Operations: health check and Prometheus metrics.',
};

const DESCRIPTION = [
  'Scheduled video calls ("bookings") for many video apps, with every state change pushed to the app owner as a signed webhook.',
  '',
  "Authenticate with `Authorization: Bearer <key>`: an app API key reaches only its own app (another app's resources answer 404), " +
    'the operator token reaches everything. Every error is an RFC 9457 problem (`application/problem+json`) with a stable `code`. ' +
    'Lists are cursor-paginated: `{ "data": [...], "next_cursor": "..." | null }`.',
  '',
  'The events your endpoint receives, their bodies and their headers are under `webhooks`.',
].join('\n');

/**
 * The OpenAPI 3.1 document of the API: what Nest finds on the controllers and DTOs, plus the
 * shared schemas (booking record, problem details, webhook bodies) and the `webhooks`.
 * Served at /docs/openapi.json, written to docs/openapi.json by `npm run openapi:write`.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Scheduled calls and webhooks API')
    .setDescription(DESCRIPTION)
    .setVersion('1.0.0')
    .addServer('/', 'The server this document is served from')
    .addSecurity('bearer', { type: 'http', scheme: 'bearer', description: 'An app API key (`scw_ak_…`) or the operator token (`ADMIN_TOKEN`).' })
    .addSecurityRequirements('bearer')
    .build();
  config.info.contact = { name: 'ApifyCloud', url: 'https://docs.apifycloud.io' };
  // OpenAPI 3.1 license object (an SPDX identifier); @nestjs/swagger's type predates the field.
  config.info.license = { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' } as OpenAPIObject['info']['license'];
  const document = SwaggerModule.createDocument(app, config, {
    // Handlers name their operation with @ApiOperation({ operationId }); one that does not gets
    // `<method><Controller>`, e.g. listApiKeys.
    operationIdFactory: (controller, method) => `${method}${controller.replace(/Controller$/, '')}`,
  });
  const found = document.components?.schemas ?? {};
  const shared = sharedSchemas();
  const clash = Object.keys(shared).find((name) => name in found);
  if (clash) throw new Error(`OpenAPI: a DTO class is named ${clash}, like a shared schema; rename it (or name its schema with @ApiSchema)`);
  document.components = { ...document.components, schemas: sortKeys({ ...found, ...shared }) };
  completeProblemResponses(document);
  document.webhooks = webhooksObject();
  const used = new Set(
    [...Object.values(document.paths), ...Object.values(document.webhooks)].flatMap((item) =>
      Object.values(item).flatMap((op) => (op as { tags?: string[] }).tags ?? []),
    ),
  );
  document.tags = [
    ...Object.entries(TAGS)
      .filter(([name]) => used.has(name))
      .map(([name, description]) => ({ name, description })),
    ...[...used]
      .filter((name) => !(name in TAGS))
      .sort()
      .map((name) => ({ name })),
  ];
  return document;
}

/** By code unit, not locale, so the file is the same on every machine. */
function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
