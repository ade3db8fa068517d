import { Module } from '@nestjs/common';
import { ApiKeyRevocationChannel } from './api-key-revocation.channel';
import { ApiKeyUsageRecorder } from './api-key-usage.recorder';
import { ApiKeyVerificationService } from './api-key-verification.service';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { VideoAppsController } from './video-apps.controller';
import { VideoAppsDirectory } from './video-apps.directory';
import { VideoAppsService } from './video-apps.service';

/** Apps (tenants) and their API keys: the routes, and the key verification the auth guard uses. */
@Module({
  controllers: [VideoAppsController, ApiKeysController],
  providers: [ApiKeysRepository, ApiKeyRevocationChannel, ApiKeyUsageRecorder, ApiKeyVerificationService, ApiKeysService, VideoAppsDirectory, VideoAppsService],
  exports: [ApiKeyVerificationService, VideoAppsDirectory],
})
export class VideoAppsModule {}
