import type { HeaderObject, OpenAPIObject, OperationObject, ParameterObject, ResponseObject } from '@nestjs/swagger';
import { PROBLEM_MEDIA_TYPE, schemaRef } from './openapi-schemas';

export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429;

/** What each status means on any route; a route says more with @ApiProblems where it can. */
export const PROBLEM_DESCRIPTIONS: Record<Exclude<ProblemStatus, 400>, string> = {
  401: 'No credentials, or not a valid API key or operator token (`unauthorized`).',
  403: 'App API keys cannot call this route: it needs the operator token (`forbidden`).',
  404: "No such app for these credentials, or no such resource in it (`not_found`). Another app's resources answer 404 too.",
  409: 'The resource is not in a state that allows this.',
  413: 'The body is larger than the limit (`payload_too_large`).',
  415: 'The body is not `application/json` (`unsupported_media_type`).',
  422: 'The body is not valid (`validation_failed`): `errors` lists each field at fault.',
  429: 'Too many failed authentications from this client: wait `Retry-After` seconds.',
};

const PROBLEM_HEADERS: Partial<Record<ProblemStatus, Record<string, HeaderObject>>> = {
  401: { 'WWW-Authenticate': { description: 'Always `Bearer`.', schema: { type: 'string' } } },
  429: { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'string', pattern: '^[0-9]+$' } } },
};

/** The 400 causes that apply to an operation, from its shape. */
function badRequestDescription(method: string, hasBody: boolean, hasQuery: boolean): string {
  const causes = [
    ...(hasBody ? ['`invalid_json` (the body is not JSON)'] : method === 'get' ? [] : ['`unexpected_body` (this route takes no body; send none, or `{}`)']),
    hasQuery
      ? '`invalid_query` (a query parameter is unknown or not valid; `errors` names it) or `invalid_cursor`'
      : '`invalid_query` (this route takes no query parameters)',
  ];
  return `The request is malformed: ${causes.join(', or ')}.`;
}

/**
 * Adds the error responses every route has by construction, so no route can leave them out:
 * the auth guard (401, 429 for too many failures) and the request-shape guard (400) on every
 * authenticated route; the JSON parser and the validation pipe (400, 413, 415, 422) wherever
 * there is a body; the tenant check (404) under /v1/apps/{appId}. Then gives every error response
 * the problem-details body the global exception filter renders, and its headers. What a route
 * declared itself (a more precise description) is kept.
 */
export function completeProblemResponses(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item) as Array<[string, OperationObject]>) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      const parameters = (operation.parameters ?? []) as ParameterObject[];
      const hasBody = Boolean(operation.requestBody);
      const hasQuery = parameters.some((p) => p.in === 'query');
      const authenticated = !(Array.isArray(operation.security) && operation.security.length === 0);
      const responses = operation.responses as Record<string, ResponseObject>;
      const ensure = (status: ProblemStatus, description: string) => {
        responses[status] ??= { description };
      };
      if (authenticated || hasBody) ensure(400, badRequestDescription(method, hasBody, hasQuery));
      if (authenticated) {
        ensure(401, PROBLEM_DESCRIPTIONS[401]);
        ensure(429, PROBLEM_DESCRIPTIONS[429]);
      }
      if (path.includes('{appId}')) ensure(404, PROBLEM_DESCRIPTIONS[404]);
      if (hasBody) {
        ensure(413, PROBLEM_DESCRIPTIONS[413]);
        ensure(415, PROBLEM_DESCRIPTIONS[415]);
        ensure(422, PROBLEM_DESCRIPTIONS[422]);
      }
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) < 400 || response.content) continue;
        response.content = { [PROBLEM_MEDIA_TYPE]: { schema: schemaRef('Problem') } };
        const headers = PROBLEM_HEADERS[Number(status) as ProblemStatus];
        if (headers) response.headers = { ...headers, ...response.headers };
      }
      operation.responses = sortResponses(responses);
    }
  }
}

/** Success first, then errors by status, as readers expect (integer-like keys keep that order in JSON anyway). */
function sortResponses(responses: Record<string, ResponseObject>): Record<string, ResponseObject> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
