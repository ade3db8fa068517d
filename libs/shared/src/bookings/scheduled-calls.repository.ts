import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ScheduledCall, ScheduledCallStatus } from '../entities/scheduled-call.entity';
import type { BookingEvent } from '../events/booking-events';
import { insertOutboxEvents, newBookingEvent } from '../events/outbox';
import { MicroBatcher } from '../database/micro-batcher';
import { queryRows, unnestInput, UnnestColumns } from '../database/sql';
import { ListPosition, newestFirst } from '../database/keyset';
import { BookingCommand, planTransition } from './booking-state';

export interface ScheduledCallFilters {
  statuses?: ScheduledCallStatus[];
  from?: Date;
  to?: Date;
}

/** The list's sort key: scheduled_at when the list is a window on it, created_at otherwise. */
export function listOrderKey(filters: ScheduledCallFilters): 'scheduledAt' | 'createdAt' {
  return filters.from !== undefined || filters.to !== undefined ? 'scheduledAt' : 'createdAt';
}

export type CreateOutcome =
  | { kind: 'created'; call: ScheduledCall; event: BookingEvent }
  /** The Idempotency-Key was used before: the booking it created, and whether the body matched. */
  | { kind: 'replayed'; call: ScheduledCall; sameRequest: boolean };

export type TransitionOutcome =
  | { kind: 'not_found' }
  | { kind: 'forbidden'; call: ScheduledCall; message: string }
  | { kind: 'unchanged'; call: ScheduledCall }
  | { kind: 'changed'; call: ScheduledCall; event: BookingEvent | null };

interface PendingCreate {
  call: ScheduledCall;
  event: BookingEvent;
  idempotency: IdempotencyInput | null;
}

export interface IdempotencyInput {
  key: string;
  fingerprint: Buffer;
}

/** A new booking and its `scheduled.created` event, as the batched insert's input columns. */
const CREATE_COLUMNS = {
  id: ['uuid', (p) => p.call.id],
  app_id: ['uuid', (p) => p.call.appId],
  status: ['text', (p) => p.call.status],
  scheduled_at: ['timestamptz', (p) => p.call.scheduledAt],
  ends_at: ['timestamptz', (p) => p.call.endsAt],
  duration_minutes: ['int', (p) => p.call.durationMinutes],
  timezone: ['text', (p) => p.call.timezone],
  guest: ['jsonb', (p) => JSON.stringify(p.call.guest)],
  agent: ['jsonb', (p) => (p.call.agent ? JSON.stringify(p.call.agent) : null)],
  requires_confirmation: ['boolean', (p) => p.call.requiresConfirmation],
  metadata: ['jsonb', (p) => JSON.stringify(p.call.metadata)],
  idempotency_key: ['text', (p) => p.idempotency?.key ?? null],
  idempotency_fingerprint: ['bytea', (p) => p.idempotency?.fingerprint ?? null],
  created_at: ['timestamptz', (p) => p.call.createdAt],
  event_id: ['uuid', (p) => p.event.eventId],
  // json, not jsonb: the payload is kept (and sent) byte for byte as written.
  payload: ['json', (p) => JSON.stringify(p.event.payload)],
  trace_context: ['text', (p) => p.event.traceContext],
} satisfies UnnestColumns<PendingCreate>;

/** Bookings and their outbox events. Every method takes the tenant: there is no unscoped read. */
@Injectable()
export class ScheduledCallsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Inserts the booking and its `scheduled.created` event in one statement, batched with the
   * creates of other requests in flight (see MicroBatcher). With an Idempotency-Key, a key already
   * used inserts nothing and the existing booking is returned instead.
   */
  async create(call: ScheduledCall, idempotency: IdempotencyInput | null): Promise<CreateOutcome> {
    const event = newBookingEvent('scheduled.created', call, call.createdAt);
    const inserted = await this.creates.submit({ call, event, idempotency });
    if (inserted) return { kind: 'created', call, event };
    if (!idempotency) throw new Error('insert of a scheduled call without an idempotency key inserted nothing');
    return this.findByIdempotencyKey(call.appId, idempotency);
  }

  private readonly creates = new MicroBatcher<PendingCreate, boolean>((batch) => this.insertBatch(batch));

  /** One statement for the whole batch: arrays in, one row per column, unnest() pairs them up. */
  private async insertBatch(batch: PendingCreate[]): Promise<boolean[]> {
    const input = unnestInput(batch, CREATE_COLUMNS);
    const rows = await queryRows<{ id: string }>(
      this.db,
      `WITH input AS (
         SELECT * FROM ${input.sql}
       ), call AS (
         INSERT INTO scheduled_calls (id, app_id, status, scheduled_at, ends_at, duration_minutes, timezone, guest, agent,
           requires_confirmation, metadata, version, reschedule_count, idempotency_key, idempotency_fingerprint, created_at, updated_at)
         SELECT id, app_id, status, scheduled_at, ends_at, duration_minutes, timezone, guest, agent, requires_confirmation,
                metadata, 1, 0, idempotency_key, idempotency_fingerprint, created_at, created_at
           FROM input
         ON CONFLICT (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING id
       )
       INSERT INTO outbox_events (id, app_id, scheduled_call_id, type, payload, occurred_at, trace_context)
       SELECT input.event_id, input.app_id, input.id, 'scheduled.created', input.payload, input.created_at, input.trace_context
         FROM input JOIN call ON call.id = input.id
       RETURNING scheduled_call_id AS id`,
      input.params,
    );
    const inserted = new Set(rows.map((row) => row.id));
    return batch.map((p) => inserted.has(p.call.id));
  }

  private async findByIdempotencyKey(appId: string, idempotency: IdempotencyInput): Promise<CreateOutcome> {
    const existing = await this.db
      .getRepository(ScheduledCall)
      .createQueryBuilder('call')
      .addSelect('call.idempotencyFingerprint')
      .where('call.appId = :appId AND call.idempotencyKey = :key', { appId, key: idempotency.key })
      .getOneOrFail();
    const sameRequest = existing.idempotencyFingerprint?.equals(idempotency.fingerprint) ?? false;
    delete (existing as Partial<ScheduledCall>).idempotencyFingerprint;
    return { kind: 'replayed', call: existing, sameRequest };
  }

  findForApp(appId: string, id: string): Promise<ScheduledCall | null> {
    return this.db.getRepository(ScheduledCall).findOneBy({ appId, id });
  }

  /**
   * A page of an app's calls: newest created first, or, with a from/to window on scheduled_at,
   * latest scheduled first. Each status is read by its own ordered index scan that stops after
   * `limit` rows, and the scans are merged: a page costs the same however many calls the app has.
   */
  async listForApp(appId: string, filters: ScheduledCallFilters, limit: number, after?: ListPosition): Promise<ScheduledCall[]> {
    const key = listOrderKey(filters);
    const statuses = filters.statuses?.length ? [...new Set(filters.statuses)] : [undefined];
    const rows: ScheduledCall[] = [];
    for (const status of statuses) {
      const query = newestFirst(this.db.getRepository(ScheduledCall).createQueryBuilder('call').where('call.appId = :appId', { appId }), key, limit, after);
      if (status) query.andWhere('call.status = :status', { status });
      if (filters.from) query.andWhere('call.scheduledAt >= :from', { from: filters.from });
      if (filters.to) query.andWhere('call.scheduledAt < :to', { to: filters.to });
      rows.push(...(await query.getMany()));
    }
    if (statuses.length === 1) return rows;
    return rows.sort((a, b) => b[key].getTime() - a[key].getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, limit);
  }

  /**
   * Applies a command under a row lock, so two concurrent changes to one booking run one after
   * the other and the second sees the first's result. The event is written in the same transaction.
   */
  transition(appId: string, id: string, command: BookingCommand, now: Date): Promise<TransitionOutcome> {
    return this.db.transaction(async (manager) => {
      const call = await manager.findOne(ScheduledCall, { where: { appId, id }, lock: { mode: 'pessimistic_write' } });
      if (!call) return { kind: 'not_found' };
      const plan = planTransition(call, command, now);
      if (plan.kind === 'unchanged') return { kind: 'unchanged', call };
      if (plan.kind === 'forbidden') return { kind: 'forbidden', call, message: plan.message };
      await this.save(manager, plan.call);
      const event = plan.event ? newBookingEvent(plan.event, plan.call, now) : null;
      if (event) await insertOutboxEvents(manager, [event]);
      return { kind: 'changed', call: plan.call, event };
    });
  }

  private async save(manager: EntityManager, call: ScheduledCall): Promise<void> {
    // Everything but the identity and the columns a booking never changes after its creation.
    const { id, appId, idempotencyKey: _key, idempotencyFingerprint: _fingerprint, createdAt: _createdAt, ...changes } = call;
    await manager.update(ScheduledCall, { id, appId }, changes as QueryDeepPartialEntity<ScheduledCall>);
  }
}
