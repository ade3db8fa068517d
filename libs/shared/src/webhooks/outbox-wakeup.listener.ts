import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { OUTBOX_COMMITTED } from '../events/booking-events';
import { WebhookFanOut } from './webhook-fan-out.service';

/** Wakes the fan-out right after a commit wrote outbox events, so deliveries start at once. */
@Injectable()
export class OutboxWakeupListener {
  constructor(private readonly fanOut: WebhookFanOut) {}

  @OnEvent(OUTBOX_COMMITTED)
  onCommitted(): void {
    this.fanOut.wake();
  }
}
