import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueryFailedError } from 'typeorm';
import { ApiError, FieldError } from './api-error';

interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  message: string;
  detail: string;
  errors?: FieldError[];
  /** The request's id (X-Request-Id), to quote when asking about this answer; it finds the request's log lines. */
  request_id: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

// Fastify's own errors (body parsing, limits) mapped to our codes, so clients see one error shape.
const FASTIFY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', message: 'The request body is too large.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'Send the body as application/json.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length', message: 'The Content-Length header does not match the body.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: 'The body is empty but Content-Type is application/json; send a JSON object or no Content-Type.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'The body is not valid JSON.' },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_url', message: 'The request URL is malformed.' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long', message: 'A path segment of the URL is too long.' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'bad_request', message: 'The request could not be routed.' },
};

/**
 * PostgreSQL errors a request's values caused (class 22, data exceptions: out of range, invalid
 * text; class 23, integrity: unique, foreign key, not null, check) are the client's 4xx, whatever
 * check upstream missed them. The database's own message is not passed on.
 */
function databaseInputError(error: unknown): { status: number; code: string; message: string } | null {
  if (!(error instanceof QueryFailedError)) return null;
  const sqlState = String((error.driverError as { code?: unknown } | undefined)?.code ?? '');
  if (sqlState === '23505') return { status: 409, code: 'conflict', message: 'This conflicts with an existing resource.' };
  if (sqlState === '23503') return { status: 409, code: 'conflict', message: 'A resource this refers to does not exist (any more).' };
  if (sqlState.startsWith('22') || sqlState.startsWith('23')) {
    return { status: 422, code: 'invalid_value', message: 'A value is out of range or not valid for its field.' };
  }
  return null;
}

/** Renders every error as RFC 9457 problem details, plus `code` and `message` for convenience. */
export function toProblem(error: unknown, requestId: string): { problem: Problem; headers: Record<string, string> } {
  let status = HttpStatus.INTERNAL_SERVER_ERROR;
  let code = 'internal_error';
  let message = 'Something went wrong on our side; it has been logged. Retry later.';
  let errors: FieldError[] | undefined;
  let headers: Record<string, string> = {};
  const fastifyCode = (error as { code?: unknown })?.code;
  if (error instanceof ApiError) {
    status = error.getStatus();
    code = error.code;
    message = error.message;
    errors = error.errors;
    headers = error.headers ?? {};
  } else if (error instanceof HttpException) {
    status = error.getStatus();
    code = status === 404 ? 'not_found' : (TITLES[status] ?? 'error').toLowerCase().replace(/ /g, '_');
    message = status === 404 ? 'No such route.' : error.message;
  } else if (databaseInputError(error)) {
    ({ status, code, message } = databaseInputError(error)!);
  } else if (typeof fastifyCode === 'string' && FASTIFY_ERRORS[fastifyCode]) {
    ({ status, code, message } = FASTIFY_ERRORS[fastifyCode]);
  } else if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === 400) {
    ({ status, code, message } = FASTIFY_ERRORS.FST_ERR_CTP_INVALID_JSON_BODY);
  } else if (typeof (error as { statusCode?: unknown })?.statusCode === 'number') {
    const statusCode = (error as { statusCode: number }).statusCode;
    if (statusCode >= 400 && statusCode < 500) {
      status = statusCode;
      code = (TITLES[status] ?? 'bad request').toLowerCase().replace(/ /g, '_');
      message = (error as Error).message;
    }
  }
  const title = TITLES[status] ?? 'Error';
  return {
    problem: { type: `about:blank`, title, status, code, message, detail: message, ...(errors ? { errors } : {}), request_id: requestId },
    headers,
  };
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    sendProblem(error, request, reply, this.logger);
  }
}

export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const { problem, headers } = toProblem(error, request.id);
  if (problem.status >= 500) {
    // The route, not the URL: a URL's query can carry what a log must not.
    const failure = error instanceof Error ? error : new Error(String(error));
    logger.error(`${request.method} ${request.routeOptions?.url ?? '(no route)'} failed: ${failure.message}`, failure);
  }
  void reply
    .status(problem.status)
    .headers({ ...headers, 'content-type': 'application/problem+json' })
    .send(problem);
}
