import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { readWorkerConfig } from '../apps/worker/src/config/worker-config';
import { WorkerModule } from '../apps/worker/src/worker.module';
import { createDataSource } from '../libs/shared/src/database/data-source';
import { NoShowDetector } from '../libs/shared/src/no-show/no-show-detector';
import { FakeClock } from './support/fake-clock';
import { createBooking, createVideoApp, outboxEvents, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { waitFor } from './support/wait-for';

const MINUTE = 60_000;

describe('No-show detection', () => {
  let api: TestApi;
  let app: TestVideoApp;
  const detectorDbs: DataSource[] = [];

  beforeAll(async () => {
    api = await startTestApi();
    app = await createVideoApp(api, { name: 'Grace 10', no_show_grace_minutes: 10 });
  });
  afterAll(async () => {
    await Promise.all(detectorDbs.map((db) => db.destroy()));
    await api.close();
  });

  /** A detector with its own connection pool, as a separate worker process would have. */
  async function detector(): Promise<NoShowDetector> {
    const db = createDataSource(api.databaseUrl, 4, 'test-detector');
    await db.initialize();
    detectorDbs.push(db);
    return new NoShowDetector(db, new FakeClock());
  }

  const get = async (id: string) => (await api.http.get(`/v1/apps/${app.id}/scheduled-calls/${id}`).set(app.auth).expect(200)).body;

  it('marks a call nobody joined once the grace window has passed, with one scheduled.no_show event', async () => {
    const sut = await detector();
    const call = await createBooking(api, app);
    const deadline = new Date(call.scheduled_at).getTime() + 10 * MINUTE;
    expect(await sut.runOnce(new Date(deadline - 1))).toEqual([]);
    expect((await get(call.id)).status).toBe('scheduled');
    const events = await sut.runOnce(new Date(deadline));
    expect(events.map((e) => [e.type, e.scheduledCallId])).toEqual([['scheduled.no_show', call.id]]);
    const after = await get(call.id);
    expect(after).toMatchObject({ status: 'no_show', version: 2, no_show_at: new Date(deadline).toISOString() });
    const stored = await outboxEvents(api, call.id);
    expect(stored.map((e) => e.type)).toEqual(['scheduled.created', 'scheduled.no_show']);
    expect(stored[1].payload.scheduled_call).toEqual(after);
    expect(await sut.runOnce(new Date(deadline + MINUTE))).toEqual([]);
  });

  it('marks confirmed calls too, and honours a grace of 0 minutes', async () => {
    const zero = await createVideoApp(api, { name: 'Grace 0', no_show_grace_minutes: 0 });
    const pending = await createBooking(api, zero, { requires_confirmation: true });
    await api.http.post(`/v1/apps/${zero.id}/scheduled-calls/${pending.id}/confirm`).set(zero.auth).expect(200);
    const sut = await detector();
    const events = await sut.runOnce(new Date(pending.scheduled_at));
    expect(events.map((e) => e.scheduledCallId)).toContain(pending.id);
  });

  it('never marks a call someone joined, a cancelled call or a pending one', async () => {
    const joinedByGuest = await createBooking(api, app);
    const joinedByAgent = await createBooking(api, app);
    const cancelled = await createBooking(api, app);
    const pending = await createBooking(api, app, { requires_confirmation: true });
    await api.http.post(`/v1/apps/${app.id}/scheduled-calls/${joinedByGuest.id}/join`).set(app.auth).send({ participant: 'guest' }).expect(200);
    await api.http.post(`/v1/apps/${app.id}/scheduled-calls/${joinedByAgent.id}/join`).set(app.auth).send({ participant: 'agent' }).expect(200);
    await api.http.post(`/v1/apps/${app.id}/scheduled-calls/${cancelled.id}/cancel`).set(app.auth).send({}).expect(200);
    const sut = await detector();
    const events = await sut.runOnce(new Date(Date.now() + 24 * 60 * MINUTE));
    const marked = events.map((e) => e.scheduledCallId);
    for (const call of [joinedByGuest, joinedByAgent, cancelled, pending]) expect(marked).not.toContain(call.id);
    expect((await get(cancelled.id)).status).toBe('cancelled');
    expect((await get(pending.id)).status).toBe('pending_confirmation');
  });

  it('follows a reschedule to a later time', async () => {
    const call = await createBooking(api, app);
    const later = new Date(new Date(call.scheduled_at).getTime() + 60 * MINUTE);
    await api.http.post(`/v1/apps/${app.id}/scheduled-calls/${call.id}/reschedule`).set(app.auth).send({ scheduled_at: later.toISOString() }).expect(200);
    const sut = await detector();
    const oldDeadline = new Date(new Date(call.scheduled_at).getTime() + 11 * MINUTE);
    expect((await sut.runOnce(oldDeadline)).map((e) => e.scheduledCallId)).not.toContain(call.id);
    const newDeadline = new Date(later.getTime() + 10 * MINUTE);
    expect((await sut.runOnce(newDeadline)).map((e) => e.scheduledCallId)).toContain(call.id);
  });

  it('uses the app grace as it is now', async () => {
    const tenant = await createVideoApp(api, { name: 'Changing grace', no_show_grace_minutes: 30 });
    const call = await createBooking(api, tenant);
    await api.http.patch(`/v1/apps/${tenant.id}`).set(tenant.auth).send({ no_show_grace_minutes: 5 }).expect(200);
    const sut = await detector();
    const events = await sut.runOnce(new Date(new Date(call.scheduled_at).getTime() + 5 * MINUTE));
    expect(events.map((e) => e.scheduledCallId)).toContain(call.id);
  });

  it('records exactly one no-show per call with several detectors racing', async () => {
    const racers = await createVideoApp(api, { name: 'Racers', no_show_grace_minutes: 1 });
    const calls = await Promise.all(Array.from({ length: 40 }, () => createBooking(api, racers)));
    const detectors = await Promise.all([detector(), detector(), detector()]);
    const now = new Date(Date.now() + 3 * 60 * MINUTE);
    // Small batches so the detectors interleave over many transactions.
    const results = await Promise.all(detectors.flatMap((d) => [d.runOnce(now, 5), d.runOnce(now, 5), d.runOnce(now, 7), d.runOnce(now, 3)]));
    let rounds = 0;
    while ((await Promise.all(detectors.map((d) => d.runOnce(now, 5)))).some((r) => r.length > 0) && rounds++ < 50);
    const ids = new Set(calls.map((c) => c.id));
    const rows: Array<{ scheduled_call_id: string; n: number }> = await api.db.query(
      `SELECT scheduled_call_id, count(*)::int AS n FROM outbox_events WHERE type = 'scheduled.no_show' AND app_id = $1 GROUP BY 1`,
      [racers.id],
    );
    expect(rows).toHaveLength(40);
    expect(rows.every((r) => r.n === 1 && ids.has(r.scheduled_call_id))).toBe(true);
    expect(results.flat().length).toBeLessThanOrEqual(40);
  });

  it('runs in two worker app instances against one database with one event per call', async () => {
    const tenant = await createVideoApp(api, { name: 'Workers', no_show_grace_minutes: 0 });
    const calls = await Promise.all(Array.from({ length: 20 }, () => createBooking(api, tenant)));
    const future = new FakeClock(new Date(Date.now() + 2 * 60 * MINUTE));
    const config = readWorkerConfig({ ...api.env, NO_SHOW_INTERVAL: '20ms' });
    const workers: INestApplicationContext[] = await Promise.all(
      [1, 2].map(() => NestFactory.createApplicationContext(WorkerModule.forRoot(config, future), { logger: ['error'] })),
    );
    try {
      await waitFor('every call to be marked no_show', async () => {
        const [{ n }] = await api.db.query(`SELECT count(*)::int AS n FROM scheduled_calls WHERE app_id = $1 AND status = 'no_show'`, [tenant.id]);
        return n === calls.length;
      });
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
    const [{ events }] = await api.db.query(`SELECT count(*)::int AS events FROM outbox_events WHERE type = 'scheduled.no_show' AND app_id = $1`, [tenant.id]);
    expect(events).toBe(calls.length);
  });
});
