import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiError } from '../common/api-error';
import { Public } from '../common/auth';
import { ConsoleAsset, ConsoleAssetsService } from './console-assets.service';

/**
 * No inline script or style anywhere, and the page may only talk to this origin: a key pasted into
 * the console cannot be sent elsewhere by injected markup.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Serves the web console (a static page and its module) without credentials; the page itself calls /v1 with the key. */
@ApiExcludeController()
@Public()
@Controller('console')
export class ConsoleController {
  constructor(private readonly assets: ConsoleAssetsService) {}

  @Get()
  index(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    send(reply, this.assets.find('index.html'), ifNoneMatch);
  }

  @Get(':file')
  asset(@Param('file') file: string, @Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    send(reply, file === 'index.html' ? undefined : this.assets.find(file), ifNoneMatch);
  }
}

function send(reply: FastifyReply, asset: ConsoleAsset | undefined, ifNoneMatch: string | undefined): void {
  if (!asset) throw ApiError.notFound('Console file');
  void reply.headers({
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    // Revalidate every time (cheap with the ETag) so a deploy is picked up at the next load.
    'cache-control': 'no-cache',
    etag: asset.etag,
  });
  if (ifNoneMatch === asset.etag) {
    void reply.status(304).send();
    return;
  }
  void reply.type(asset.contentType).send(asset.body);
}
