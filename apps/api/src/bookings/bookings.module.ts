import { Module } from '@nestjs/common';
import { ScheduledCallsRepository } from '@app/shared/bookings/scheduled-calls.repository';
import { ScheduledCallsController } from './scheduled-calls.controller';
import { ScheduledCallsService } from './scheduled-calls.service';

/** Scheduled calls: booking, rescheduling, cancelling, joining; each change writes its outbox event. */
@Module({
  controllers: [ScheduledCallsController],
  providers: [ScheduledCallsRepository, ScheduledCallsService],
  exports: [ScheduledCallsRepository],
})
export class BookingsModule {}
