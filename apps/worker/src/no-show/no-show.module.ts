import { Module } from '@nestjs/common';
import { NoShowDetector } from '@app/shared/no-show/no-show-detector';
import { NoShowScheduler } from './no-show.scheduler';

/** Marks calls nobody joined within their grace window as no-shows (and writes their events). */
@Module({
  providers: [NoShowDetector, NoShowScheduler],
})
export class NoShowModule {}
