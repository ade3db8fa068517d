import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { VideoAppsModule } from '../video-apps/video-apps.module';
import { ApiValidationPipe } from './api-validation.pipe';
import { AuthFailureLimiter } from './auth-failure.limiter';
import { AuthGuard } from './auth.guard';
import { ProblemDetailsFilter } from './problem-details.filter';
import { RequestShapeGuard } from './request-shape.guard';

/**
 * What every route goes through, in this order: authentication (with the failed-attempt limiter),
 * the request-shape guard (no undeclared query keys or body), validation, and problem+json errors.
 */
@Module({
  imports: [VideoAppsModule],
  providers: [
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_GUARD, useClass: RequestShapeGuard },
    { provide: APP_PIPE, useClass: ApiValidationPipe },
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    AuthFailureLimiter,
  ],
})
export class HttpPipelineModule {}
