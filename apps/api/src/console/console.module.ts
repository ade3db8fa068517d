import { Module } from '@nestjs/common';

/** The web console at /console (issue 5). Served by the API app; talks only to the public REST API. */
@Module({})
export class ConsoleModule {}
