import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { API_CONFIG } from '../config/api-config.module';
import type { ApiConfig } from '../config/api-config';
import { ApiKeysService } from '../video-apps/api-keys.service';
import { VideoAppsDirectory } from '../video-apps/video-apps.directory';
import { ApiError } from './api-error';
import { OPERATOR_ONLY, Principal, PUBLIC_ROUTE, UUID_PATTERN } from './auth';

/**
 * Authenticates every request and scopes `/v1/apps/{appId}/…` to its app: an app key on another
 * app's path, and any unknown app, answer 404 (so an app cannot probe for other tenants).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly operatorDigest: Buffer;

  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    private readonly apps: VideoAppsDirectory,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    this.operatorDigest = sha256(config.adminToken);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const principal = await this.authenticate(request.headers.authorization);
    if (principal.kind === 'app' && this.reflector.getAllAndOverride<boolean>(OPERATOR_ONLY, targets)) {
      throw ApiError.forbidden('This route needs the operator token; app API keys cannot call it.');
    }
    const appId = (request.params as Record<string, string | undefined>)?.appId;
    if (appId !== undefined) await this.authorizeApp(principal, appId);
    request.principal = principal;
    return true;
  }

  private async authenticate(header: string | undefined): Promise<Principal> {
    if (!header) throw ApiError.unauthorized('Send "Authorization: Bearer <API key or operator token>".');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw ApiError.unauthorized('The Authorization header must be "Bearer <API key or operator token>".');
    const token = match[1];
    if (timingSafeEqual(sha256(token), this.operatorDigest)) return { kind: 'operator' };
    const appId = await this.keys.verify(token);
    if (!appId) throw ApiError.unauthorized('The API key or token is not valid.');
    return { kind: 'app', appId };
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
