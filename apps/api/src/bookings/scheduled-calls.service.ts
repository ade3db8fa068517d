import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { createHash } from 'node:crypto';
import { BookingCommand } from '@app/shared/bookings/booking-state';
import { ScheduledCallRecord, toScheduledCallRecord } from '@app/shared/bookings/scheduled-call.record';
import { listOrderKey, ScheduledCallsRepository, TransitionOutcome } from '@app/shared/bookings/scheduled-calls.repository';
import { Clock } from '@app/shared/clock/clock';
import { uuidV7 } from '@app/shared/database/uuid-v7';
import { NEW_BOOKING_TIMELINE, ScheduledCall, ScheduledCallStatus } from '@app/shared/entities';
import { BookingEvent, OUTBOX_COMMITTED, OutboxCommittedSignal } from '@app/shared/events/booking-events';
import { ApiError } from '../common/api-error';
import { Page, positionAfter, toPage } from '../common/pagination';
import {
  CancelScheduledCallDto,
  CreateScheduledCallDto,
  JoinScheduledCallDto,
  ListScheduledCallsQuery,
  RescheduleScheduledCallDto,
} from './dto/scheduled-call.dto';

const MAX_AHEAD_MS = 2 * 365 * 86_400_000;

export interface CreateResult {
  call: ScheduledCallRecord;
  /** True when an earlier request with the same Idempotency-Key created this booking. */
  replayed: boolean;
}

@Injectable()
export class ScheduledCallsService {
  constructor(
    private readonly calls: ScheduledCallsRepository,
    private readonly clock: Clock,
    private readonly events: EventEmitter2,
  ) {}

  async create(appId: string, dto: CreateScheduledCallDto, idempotencyKey?: string): Promise<CreateResult> {
    const now = this.clock.now();
    const scheduledAt = this.futureInstant(dto.scheduled_at, now);
    const call: ScheduledCall = {
      id: uuidV7(now),
      appId,
      status: dto.requires_confirmation ? 'pending_confirmation' : 'scheduled',
      scheduledAt,
      endsAt: new Date(scheduledAt.getTime() + dto.duration_minutes * 60_000),
      durationMinutes: dto.duration_minutes,
      timezone: dto.timezone ?? 'UTC',
      guest: { name: dto.guest.name, email: dto.guest.email, phone: dto.guest.phone ?? null },
      agent: dto.agent ? { id: dto.agent.id, name: dto.agent.name ?? null, email: dto.agent.email ?? null } : null,
      requiresConfirmation: dto.requires_confirmation ?? false,
      ...NEW_BOOKING_TIMELINE,
      metadata: dto.metadata ?? {},
      version: 1,
      idempotencyKey: null,
      idempotencyFingerprint: null,
      createdAt: now,
      updatedAt: now,
    };
    const idempotency = idempotencyKey === undefined ? null : { key: checkIdempotencyKey(idempotencyKey), fingerprint: fingerprint(dto) };
    const outcome = await this.calls.create(call, idempotency);
    if (outcome.kind === 'created') {
      this.signal([outcome.event]);
      return { call: toScheduledCallRecord(outcome.call), replayed: false };
    }
    if (!outcome.sameRequest) {
      throw ApiError.unprocessable('idempotency_key_reused', 'This Idempotency-Key was already used with a different body; use a new key for a new booking.');
    }
    return { call: toScheduledCallRecord(outcome.call), replayed: true };
  }

  async get(appId: string, id: string): Promise<ScheduledCallRecord> {
    const call = await this.calls.findForApp(appId, id);
    if (!call) throw ApiError.notFound('Scheduled call');
    return toScheduledCallRecord(call);
  }

  async list(appId: string, query: ListScheduledCallsQuery): Promise<Page<ScheduledCallRecord>> {
    const limit = query.limit ?? 20;
    const after = positionAfter(query);
    const from = query.from ? new Date(query.from) : undefined;
    const to = query.to ? new Date(query.to) : undefined;
    if (from && to && from >= to) throw ApiError.badRequest('invalid_query', '"from" must be earlier than "to".');
    const filters = { statuses: query.status?.split(',') as ScheduledCallStatus[] | undefined, from, to };
    const rows = await this.calls.listForApp(appId, filters, limit + 1, after);
    const key = listOrderKey(filters);
    return toPage(rows, limit, toScheduledCallRecord, (call) => ({ at: call[key], id: call.id }));
  }

  reschedule(appId: string, id: string, dto: RescheduleScheduledCallDto): Promise<ScheduledCallRecord> {
    const now = this.clock.now();
    return this.apply(appId, id, { action: 'reschedule', scheduledAt: this.futureInstant(dto.scheduled_at, now), reason: dto.reason }, now);
  }

  cancel(appId: string, id: string, dto: CancelScheduledCallDto): Promise<ScheduledCallRecord> {
    return this.apply(appId, id, { action: 'cancel', reason: dto.reason }, this.clock.now());
  }

  confirm(appId: string, id: string): Promise<ScheduledCallRecord> {
    return this.apply(appId, id, { action: 'confirm' }, this.clock.now());
  }

  join(appId: string, id: string, dto: JoinScheduledCallDto): Promise<ScheduledCallRecord> {
    return this.apply(appId, id, { action: 'join', participant: dto.participant }, this.clock.now());
  }

  private async apply(appId: string, id: string, command: BookingCommand, now: Date): Promise<ScheduledCallRecord> {
    const outcome: TransitionOutcome = await this.calls.transition(appId, id, command, now);
    switch (outcome.kind) {
      case 'not_found':
        throw ApiError.notFound('Scheduled call');
      case 'forbidden':
        throw ApiError.conflict('invalid_transition', outcome.message);
      case 'unchanged':
        return toScheduledCallRecord(outcome.call);
      case 'changed':
        if (outcome.event) this.signal([outcome.event]);
        return toScheduledCallRecord(outcome.call);
    }
  }

  /** After commit: wake whoever consumes the outbox. The row is the record; this is only a nudge. */
  private signal(events: BookingEvent[]): void {
    const signal: OutboxCommittedSignal = { events };
    this.events.emit(OUTBOX_COMMITTED, signal);
  }

  private futureInstant(value: string, now: Date): Date {
    const instant = new Date(value);
    if (instant.getTime() < now.getTime()) {
      throw ApiError.unprocessable('scheduled_at_in_past', 'scheduled_at must not lie in the past.', [
        { field: 'scheduled_at', message: 'scheduled_at must not lie in the past' },
      ]);
    }
    if (instant.getTime() > now.getTime() + MAX_AHEAD_MS) {
      throw ApiError.unprocessable('scheduled_at_too_far', 'scheduled_at must be within two years from now.', [
        { field: 'scheduled_at', message: 'scheduled_at must be within two years' },
      ]);
    }
    return instant;
  }
}

function checkIdempotencyKey(key: string): string {
  if (key.length < 1 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw ApiError.badRequest('invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.');
  }
  return key;
}

/** A digest of the request as validated, independent of key order and whitespace. */
function fingerprint(dto: CreateScheduledCallDto): Buffer {
  return createHash('sha256').update(canonicalJson(dto)).digest();
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
