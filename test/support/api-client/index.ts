/**
 * The typed client of the API, generated from docs/openapi.json: `schema.d.ts` is written by
 * `npm run openapi:client` (openapi-typescript) and must not be edited by hand;
 * test/openapi-document.e2e-spec.ts fails when it is not what the generator makes of the document.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema';

export type { components, operations, paths, webhooks } from './schema';

export type ApiClient = Client<paths>;

export function createApiClient(baseUrl: string, options: Omit<ClientOptions, 'baseUrl'> = {}): ApiClient {
  return createClient<paths>({ baseUrl, ...options });
}
