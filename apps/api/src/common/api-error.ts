import { HttpException, HttpStatus } from '@nestjs/common';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * Every error the API answers with: an HTTP status, a stable machine-readable `code` and a human
 * message. Rendered as RFC 9457 problem details by ProblemDetailsFilter.
 */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(message, status);
  }

  static notFound(what = 'Resource'): ApiError {
    return new ApiError(HttpStatus.NOT_FOUND, 'not_found', `${what} not found.`);
  }

  static conflict(code: string, message: string): ApiError {
    return new ApiError(HttpStatus.CONFLICT, code, message);
  }

  static badRequest(code: string, message: string, errors?: FieldError[]): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, code, message, errors);
  }

  static unprocessable(code: string, message: string, errors?: FieldError[]): ApiError {
    return new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, code, message, errors);
  }

  static unauthorized(message: string): ApiError {
    return new ApiError(HttpStatus.UNAUTHORIZED, 'unauthorized', message, undefined, { 'www-authenticate': 'Bearer' });
  }

  static tooManyRequests(code: string, message: string, retryAfterSeconds: number): ApiError {
    return new ApiError(HttpStatus.TOO_MANY_REQUESTS, code, message, undefined, { 'retry-after': String(retryAfterSeconds) });
  }

  static forbidden(message: string): ApiError {
    return new ApiError(HttpStatus.FORBIDDEN, 'forbidden', message);
  }
}
