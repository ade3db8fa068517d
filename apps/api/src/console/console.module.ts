import { Module } from '@nestjs/common';
import { ConsoleAssetsService } from './console-assets.service';
import { ConsoleController } from './console.controller';

/** The web console at /console (issue 5). Served by the API app; talks only to the public REST API. */
@Module({
  controllers: [ConsoleController],
  providers: [ConsoleAssetsService],
})
export class ConsoleModule {}
