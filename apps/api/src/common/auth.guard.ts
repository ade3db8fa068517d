import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { API_CONFIG } from '../config/api-config.module';
import type { ApiConfig } from '../config/api-config';
import { apiKeyPrefix } from '../video-apps/api-key-format';
import { ApiKeyVerificationService } from '../video-apps/api-key-verification.service';
import { VideoAppsDirectory } from '../video-apps/video-apps.directory';
import { ApiError } from './api-error';
import { AuthFailureLimiter } from './auth-failure.limiter';
import { UUID_PATTERN } from '@app/shared/database/uuid';
import { OPERATOR_ONLY, Principal, PUBLIC_ROUTE } from './auth';

const MISSING = 'Send "Authorization: Bearer <API key or operator token>".';
const MALFORMED = 'The Authorization header must be "Bearer <API key or operator token>".';
const INVALID = 'The API key or token is not valid.';

/**
 * Authenticates every request and scopes `/v1/apps/{appId}/…` to its app: an app key on another
 * app's path, and any unknown app, answer 404 (so an app cannot probe for other tenants).
 *
 * Failed authentication is rate-limited per client address and per presented key prefix
 * (AuthFailureLimiter). A limited client gets 429 before any lookup, so it costs no query; the
 * operator token and keys this process has already verified are still accepted from it, because
 * checking them costs nothing (one misbehaving client behind a shared address does not lock out
 * its neighbours' working keys). A valid key that would need a lookup waits out the window too.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly operatorDigest: Buffer;

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyVerificationService,
    private readonly apps: VideoAppsDirectory,
    private readonly limiter: AuthFailureLimiter,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    this.operatorDigest = sha256(config.adminToken);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const principal = await this.authenticate(request);
    if (principal.kind === 'app' && this.reflector.getAllAndOverride<boolean>(OPERATOR_ONLY, targets)) {
      throw ApiError.forbidden('This route needs the operator token; app API keys cannot call it.');
    }
    const appId = (request.params as Record<string, string | undefined>)?.appId;
    if (appId !== undefined) await this.authorizeApp(principal, appId);
    request.principal = principal;
    return true;
  }

  private async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    const token = header ? (/^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null) : null;
    if (token !== null) {
      if (timingSafeEqual(sha256(token), this.operatorDigest)) return { kind: 'operator' };
      const known = this.keys.cached(token);
      if (known) return { kind: 'app', ...known };
    }
    const client = { address: request.ip ?? 'unknown', keyPrefix: token === null ? null : apiKeyPrefix(token) };
    const retryAfter = await this.limiter.retryAfterSeconds(client);
    if (retryAfter > 0) {
      throw ApiError.tooManyRequests(
        'too_many_failed_authentications',
        `Too many failed authentications from this client; retry in ${retryAfter} s.`,
        retryAfter,
      );
    }
    const key = token === null ? null : await this.keys.verify(token);
    if (key) return { kind: 'app', ...key };
    await this.limiter.recordFailure(client);
    throw ApiError.unauthorized(!header ? MISSING : token === null ? MALFORMED : INVALID);
  }

  private async authorizeApp(principal: Principal, appId: string): Promise<void> {
    if (!UUID_PATTERN.test(appId)) throw ApiError.notFound('App');
    if (principal.kind === 'app') {
      if (principal.appId !== appId.toLowerCase()) throw ApiError.notFound('App');
      return;
    }
    if (!(await this.apps.exists(appId))) throw ApiError.notFound('App');
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
