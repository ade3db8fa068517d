import { DynamicModule, Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from '@app/shared/clock/clock';
import type { WorkerConfig } from './worker-config';

export const WORKER_CONFIG = Symbol('WORKER_CONFIG');

@Global()
@Module({})
export class WorkerConfigModule {
  static forRoot(config: WorkerConfig, clock: Clock = new SystemClock()): DynamicModule {
    return {
      module: WorkerConfigModule,
      providers: [
        { provide: WORKER_CONFIG, useValue: config },
        { provide: Clock, useValue: clock },
      ],
      exports: [WORKER_CONFIG, Clock],
    };
  }
}
