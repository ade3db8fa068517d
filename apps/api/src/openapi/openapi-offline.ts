import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { AppModule } from '../app.module';
import { readApiConfig } from '../config/api-config';
import { buildOpenApiDocument } from './openapi-document';

/**
 * The same document the API serves, built without PostgreSQL or Redis: Nest's preview mode reads
 * the modules' metadata without instantiating any provider, so nothing connects.
 */
export async function buildOpenApiDocumentOffline(): Promise<OpenAPIObject> {
  const app = await NestFactory.create(AppModule.forRoot(readApiConfig({})), new FastifyAdapter(), { preview: true, logger: false });
  try {
    return buildOpenApiDocument(app);
  } finally {
    await app.close();
  }
}

/** How docs/openapi.json is written: stable key order (as built), two-space indent, final newline. */
export function serializeOpenApiDocument(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
