import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './api-error';
import { PUBLIC_ROUTE } from './auth';

/**
 * What a route does not declare, it refuses: a non-empty body on a route without `@Body()` (so
 * `{"status":"cancelled"}` on `confirm` is a 400, not silently ignored; `{}` and no body stay
 * fine), and any query parameter on a route without `@Query()`. Read from the handler's own
 * parameter metadata, so every route is covered by construction. Runs after authentication.
 */
@Injectable()
export class RequestShapeGuard implements CanActivate {
  private readonly shapes = new WeakMap<object, { body: boolean; query: boolean }>();

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [handler, context.getClass()])) return true;
    const shape = this.shapeOf(context.getClass(), handler);
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!shape.body && !isEmptyBody(request.body)) {
      throw ApiError.badRequest('unexpected_body', 'This route takes no request body; send none, or {}.');
    }
    const query = request.query as Record<string, unknown> | undefined;
    if (!shape.query && query && Object.keys(query).length > 0) {
      const names = Object.keys(query)
        .slice(0, 10)
        .map((key) => key.slice(0, 100));
      throw ApiError.badRequest(
        'invalid_query',
        `This route takes no query parameters (got ${names.join(', ')}).`,
        names.map((field) => ({ field, message: `${field} is not a known query parameter` })),
      );
    }
    return true;
  }

  private shapeOf(controller: object, handler: { name: string }): { body: boolean; query: boolean } {
    let shape = this.shapes.get(handler);
    if (!shape) {
      // Keys are "<paramtype>:<index>", e.g. "3:1" for @Body() as the second parameter.
      const args = Object.keys(Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ?? {}).map((key) => Number(key.split(':')[0]));
      shape = { body: args.includes(RouteParamtypes.BODY), query: args.includes(RouteParamtypes.QUERY) };
      this.shapes.set(handler, shape);
    }
    return shape;
  }
}

function isEmptyBody(body: unknown): boolean {
  if (body === undefined || body === null) return true;
  return typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0;
}
