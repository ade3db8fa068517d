import { DynamicModule, Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from '@app/shared/clock/clock';
import type { ApiConfig } from './api-config';

export const API_CONFIG = Symbol('API_CONFIG');

/** Provides the validated configuration and the clock to the whole API app. */
@Global()
@Module({})
export class ApiConfigModule {
  static forRoot(config: ApiConfig, clock: Clock = new SystemClock()): DynamicModule {
    return {
      module: ApiConfigModule,
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: Clock, useValue: clock },
      ],
      exports: [API_CONFIG, Clock],
    };
  }
}
