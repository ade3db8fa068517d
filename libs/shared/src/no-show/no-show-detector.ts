import { Injectable } from '@nestjs/common';
import { context, ROOT_CONTEXT, Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { Clock } from '../clock/clock';
import { queryRows } from '../database/sql';
import { ScheduledCall } from '../entities/scheduled-call.entity';
import { BookingEvent, BookingEvents } from '../events/booking-events';
import { insertOutboxEvents, newBookingEvent } from '../events/outbox';
import { Tracing } from '../tracing/tracing';

/**
 * Marks calls nobody joined by `scheduled_at + no_show_grace_minutes` as `no_show`, with exactly one
 * `scheduled.no_show` event each, however many detectors run at once: rows are claimed with
 * FOR UPDATE SKIP LOCKED and the conditions are re-checked on the locked row, so a join, cancel or
 * reschedule that commits first wins and a second detector skips or no longer matches the row.
 */
@Injectable()
export class NoShowDetector {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly tracing: Tracing = Tracing.disabled,
  ) {}

  /** One pass over at most `limit` due calls; returns the events it recorded. */
  async runOnce(now: Date = this.clock.now(), limit = 500): Promise<BookingEvent[]> {
    const spans: Span[] = [];
    const startedAt = new Date();
    try {
      return await this.mark(now, limit, (call) => this.noShowEvent(call, now, startedAt, spans));
    } catch (error) {
      for (const span of spans) span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      for (const span of spans) span.end();
    }
  }

  /**
   * With tracing on, each no-show is a booking change of its own and starts its own trace (no
   * request made it), which the event carries on to the fan-out and the deliveries like any other.
   */
  private noShowEvent(call: ScheduledCall, now: Date, startedAt: Date, spans: Span[]): BookingEvent {
    if (!this.tracing.enabled) return newBookingEvent(BookingEvents.NoShow, call, now);
    const span = this.tracing.tracer.startSpan('booking no-show', { root: true, startTime: startedAt, attributes: { 'scw.scheduled_call.id': call.id } });
    spans.push(span);
    const event = context.with(trace.setSpan(ROOT_CONTEXT, span), () => newBookingEvent(BookingEvents.NoShow, call, now));
    span.setAttribute('scw.event.id', event.eventId);
    return event;
  }

  private mark(now: Date, limit: number, newEvent: (call: ScheduledCall) => BookingEvent): Promise<BookingEvent[]> {
    return this.db.transaction(async (manager) => {
      // A booking's state change and its event are durable facts, whatever the session's default.
      await manager.query(`SET LOCAL synchronous_commit = on`);
      const marked = await queryRows<{ id: string }>(
        manager,
        `UPDATE scheduled_calls call
            SET status = 'no_show', no_show_at = $1, version = call.version + 1, updated_at = $1
           FROM (SELECT due.id
                   FROM scheduled_calls due
                   JOIN video_apps app ON app.id = due.app_id
                  WHERE due.status IN ('scheduled', 'confirmed')
                    AND due.guest_joined_at IS NULL AND due.agent_joined_at IS NULL
                    AND due.scheduled_at <= $1
                    AND due.scheduled_at + make_interval(mins => app.no_show_grace_minutes) <= $1
                  ORDER BY due.scheduled_at
                  LIMIT $2
                  FOR UPDATE OF due SKIP LOCKED) claimed
          WHERE call.id = claimed.id
          RETURNING call.id`,
        [now, limit],
      );
      if (marked.length === 0) return [];
      const calls = await manager.find(ScheduledCall, { where: { id: In(marked.map((row) => row.id)) } });
      const events = calls.map(newEvent);
      await insertOutboxEvents(manager, events);
      return events;
    });
  }
}
