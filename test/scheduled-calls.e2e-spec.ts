import { createBooking, createVideoApp, outboxEvents, startTestApi, TestApi, TestVideoApp } from './support/test-api';

type Action = 'confirm' | 'reschedule' | 'cancel' | 'join';
type Status = 'pending_confirmation' | 'scheduled' | 'confirmed' | 'cancelled' | 'no_show';

describe('Scheduled calls lifecycle', () => {
  let api: TestApi;
  let app: TestVideoApp;
  const path = (id = '') => `/v1/apps/${app.id}/scheduled-calls${id ? `/${id}` : ''}`;

  beforeAll(async () => {
    api = await startTestApi();
    app = await createVideoApp(api);
  });
  afterAll(() => api.close());

  /** A booking brought to `status` through the API (no_show directly in SQL: the detector has its own spec). */
  async function bookingIn(status: Status): Promise<Record<string, any>> {
    const call = await createBooking(api, app, { requires_confirmation: status === 'pending_confirmation' });
    if (status === 'confirmed') {
      const pending = await createBooking(api, app, { requires_confirmation: true });
      return (
        await api.http
          .post(`${path(pending.id)}/confirm`)
          .set(app.auth)
          .expect(200)
      ).body;
    }
    if (status === 'cancelled')
      return (
        await api.http
          .post(`${path(call.id)}/cancel`)
          .set(app.auth)
          .send({})
          .expect(200)
      ).body;
    if (status === 'no_show') {
      await api.db.query(`UPDATE scheduled_calls SET status = 'no_show', no_show_at = now(), version = version + 1 WHERE id = $1`, [call.id]);
      return (await api.http.get(path(call.id)).set(app.auth).expect(200)).body;
    }
    return call;
  }

  function act(action: Action, id: string, scheduledAt?: string) {
    const body =
      action === 'reschedule'
        ? { scheduled_at: scheduledAt ?? new Date(api.clock.now().getTime() + 7_200_000).toISOString(), reason: 'moved' }
        : action === 'join'
          ? { participant: 'guest' }
          : action === 'cancel'
            ? { reason: 'changed plans' }
            : undefined;
    const req = api.http.post(`${path(id)}/${action}`).set(app.auth);
    return body ? req.send(body) : req;
  }

  it('creates a call as scheduled with version 1 and one scheduled.created event carrying the record', async () => {
    const call = await createBooking(api, app);
    expect(call).toMatchObject({
      app_id: app.id,
      status: 'scheduled',
      version: 1,
      duration_minutes: 30,
      timezone: 'Europe/Paris',
      reschedule_count: 0,
      guest_joined_at: null,
    });
    expect(new Date(call.ends_at).getTime() - new Date(call.scheduled_at).getTime()).toBe(30 * 60_000);
    const events = await outboxEvents(api, call.id);
    expect(events.map((e) => e.type)).toEqual(['scheduled.created']);
    expect(events[0].payload).toEqual({ scheduled_call: call });
  });

  it('creates a call that requires confirmation as pending_confirmation', async () => {
    const call = await createBooking(api, app, { requires_confirmation: true });
    expect(call.status).toBe('pending_confirmation');
    expect(call.requires_confirmation).toBe(true);
  });

  const allowed: Array<[Action, Status, Status, string | null]> = [
    ['confirm', 'pending_confirmation', 'confirmed', 'scheduled.confirmed'],
    ['reschedule', 'pending_confirmation', 'pending_confirmation', 'scheduled.rescheduled'],
    ['reschedule', 'scheduled', 'scheduled', 'scheduled.rescheduled'],
    ['reschedule', 'confirmed', 'confirmed', 'scheduled.rescheduled'],
    ['cancel', 'pending_confirmation', 'cancelled', 'scheduled.cancelled'],
    ['cancel', 'scheduled', 'cancelled', 'scheduled.cancelled'],
    ['cancel', 'confirmed', 'cancelled', 'scheduled.cancelled'],
    ['join', 'scheduled', 'scheduled', null],
    ['join', 'confirmed', 'confirmed', null],
  ];

  it.each(allowed)('%s from %s leads to %s and fires %s', async (action, from, to, event) => {
    const call = await bookingIn(from);
    const before = await outboxEvents(api, call.id);
    const response = await act(action, call.id).expect(200);
    expect(response.body.status).toBe(to);
    expect(response.body.version).toBe(event ? call.version + 1 : call.version);
    const after = await outboxEvents(api, call.id);
    expect(after.slice(before.length).map((e) => e.type)).toEqual(event ? [event] : []);
    if (event) expect(after[after.length - 1].payload.scheduled_call).toEqual(response.body);
  });

  const forbidden: Array<[Action, Status]> = [
    ['confirm', 'scheduled'],
    ['confirm', 'cancelled'],
    ['confirm', 'no_show'],
    ['reschedule', 'cancelled'],
    ['reschedule', 'no_show'],
    ['cancel', 'no_show'],
    ['join', 'pending_confirmation'],
    ['join', 'cancelled'],
    ['join', 'no_show'],
  ];

  it.each(forbidden)('answers 409 to %s on a %s call and changes nothing', async (action, from) => {
    const call = await bookingIn(from);
    const before = await outboxEvents(api, call.id);
    const response = await act(action, call.id).expect(409);
    expect(response.body).toMatchObject({ status: 409, code: 'invalid_transition' });
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect((await api.http.get(path(call.id)).set(app.auth).expect(200)).body).toEqual(call);
    expect(await outboxEvents(api, call.id)).toHaveLength(before.length);
  });

  it.each([
    ['confirm', 'confirmed'],
    ['cancel', 'cancelled'],
  ] as Array<[Action, Status]>)('answers 200 with the current record when repeating %s, firing nothing', async (action, status) => {
    const call = await bookingIn(status);
    const before = await outboxEvents(api, call.id);
    const response = await act(action, call.id).expect(200);
    expect(response.body).toEqual(call);
    expect(await outboxEvents(api, call.id)).toHaveLength(before.length);
  });

  it('answers 200 without an event when rescheduling to the same time', async () => {
    const call = await createBooking(api, app);
    const response = await act('reschedule', call.id, call.scheduled_at).expect(200);
    expect(response.body).toEqual(call);
    expect(await outboxEvents(api, call.id)).toHaveLength(1);
  });

  it('records the previous time and counts reschedules', async () => {
    const call = await createBooking(api, app);
    const next = new Date(api.clock.now().getTime() + 86_400_000).toISOString();
    const moved = (await act('reschedule', call.id, next).expect(200)).body;
    expect(moved).toMatchObject({ scheduled_at: next, previous_scheduled_at: call.scheduled_at, reschedule_count: 1, reschedule_reason: 'moved', version: 2 });
    expect(new Date(moved.ends_at).getTime()).toBe(new Date(next).getTime() + 30 * 60_000);
  });

  it('keeps the first join time of each side and fires no event', async () => {
    const call = await createBooking(api, app);
    const first = (await act('join', call.id).expect(200)).body;
    api.clock.advance(60_000);
    const second = (await act('join', call.id).expect(200)).body;
    expect(second.guest_joined_at).toBe(first.guest_joined_at);
    const agent = (
      await api.http
        .post(`${path(call.id)}/join`)
        .set(app.auth)
        .send({ participant: 'agent' })
        .expect(200)
    ).body;
    expect(agent.agent_joined_at).not.toBeNull();
    expect(await outboxEvents(api, call.id)).toHaveLength(1);
  });

  it('lets exactly one of two concurrent cancels fire an event', async () => {
    const call = await createBooking(api, app);
    const responses = await Promise.all([act('cancel', call.id), act('cancel', call.id), act('cancel', call.id)]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const events = await outboxEvents(api, call.id);
    expect(events.map((e) => e.type)).toEqual(['scheduled.created', 'scheduled.cancelled']);
  });

  it('serialises a concurrent confirm and cancel: both cannot win', async () => {
    const call = await createBooking(api, app, { requires_confirmation: true });
    const [confirm, cancel] = await Promise.all([act('confirm', call.id), act('cancel', call.id)]);
    const final = (await api.http.get(path(call.id)).set(app.auth).expect(200)).body;
    const types = (await outboxEvents(api, call.id)).map((e) => e.type);
    expect(final.status).toBe('cancelled');
    if (confirm.status === 200) expect(types).toEqual(['scheduled.created', 'scheduled.confirmed', 'scheduled.cancelled']);
    else expect(types).toEqual(['scheduled.created', 'scheduled.cancelled']);
    expect(cancel.status).toBe(200);
    expect(final.version).toBe(types.length);
  });

  it('writes no event and keeps the booking when the transaction rolls back', async () => {
    const call = await createBooking(api, app);
    // Sabotage the outbox insert so the transaction fails after the booking row was updated.
    await api.db.query(`CREATE FUNCTION refuse_cancel_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.type = 'scheduled.cancelled' THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$`);
    await api.db.query(`CREATE TRIGGER refuse_cancel_event BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION refuse_cancel_event()`);
    try {
      await act('cancel', call.id).expect(500);
    } finally {
      await api.db.query('DROP TRIGGER refuse_cancel_event ON outbox_events');
      await api.db.query('DROP FUNCTION refuse_cancel_event()');
    }
    expect((await api.http.get(path(call.id)).set(app.auth).expect(200)).body).toEqual(call);
    expect((await outboxEvents(api, call.id)).map((e) => e.type)).toEqual(['scheduled.created']);
  });

  it('writes no booking when the created event cannot be written', async () => {
    const countBefore = (await api.db.query('SELECT count(*)::int AS n FROM scheduled_calls'))[0].n;
    await api.db.query(`CREATE FUNCTION refuse_created_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by test'; END $$`);
    await api.db.query(`CREATE TRIGGER refuse_created_event BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION refuse_created_event()`);
    try {
      await api.http
        .post(path())
        .set(app.auth)
        .send({
          scheduled_at: new Date(api.clock.now().getTime() + 3_600_000).toISOString(),
          duration_minutes: 15,
          guest: { name: 'G', email: 'g@example.com' },
        })
        .expect(500);
    } finally {
      await api.db.query('DROP TRIGGER refuse_created_event ON outbox_events');
      await api.db.query('DROP FUNCTION refuse_created_event()');
    }
    expect((await api.db.query('SELECT count(*)::int AS n FROM scheduled_calls'))[0].n).toBe(countBefore);
  });

  describe('Idempotency-Key', () => {
    it('returns the same booking for the same key and body, with one event', async () => {
      const body = {
        scheduled_at: new Date(api.clock.now().getTime() + 3_600_000).toISOString(),
        duration_minutes: 45,
        guest: { name: 'I', email: 'i@example.com' },
      };
      const first = await api.http.post(path()).set(app.auth).set('Idempotency-Key', 'order-123').send(body).expect(201);
      const again = await api.http
        .post(path())
        .set(app.auth)
        .set('Idempotency-Key', 'order-123')
        .send({ guest: body.guest, duration_minutes: 45, scheduled_at: body.scheduled_at })
        .expect(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await outboxEvents(api, first.body.id)).toHaveLength(1);
    });

    it('answers 422 when the same key comes with another body, creating nothing', async () => {
      const body = {
        scheduled_at: new Date(api.clock.now().getTime() + 3_600_000).toISOString(),
        duration_minutes: 45,
        guest: { name: 'J', email: 'j@example.com' },
      };
      await api.http.post(path()).set(app.auth).set('Idempotency-Key', 'order-456').send(body).expect(201);
      const count = (await api.db.query('SELECT count(*)::int AS n FROM scheduled_calls'))[0].n;
      const response = await api.http
        .post(path())
        .set(app.auth)
        .set('Idempotency-Key', 'order-456')
        .send({ ...body, duration_minutes: 60 })
        .expect(422);
      expect(response.body.code).toBe('idempotency_key_reused');
      expect((await api.db.query('SELECT count(*)::int AS n FROM scheduled_calls'))[0].n).toBe(count);
    });

    it('creates one booking when the same key races with itself', async () => {
      const body = {
        scheduled_at: new Date(api.clock.now().getTime() + 3_600_000).toISOString(),
        duration_minutes: 20,
        guest: { name: 'K', email: 'k@example.com' },
      };
      const responses = await Promise.all(Array.from({ length: 5 }, () => api.http.post(path()).set(app.auth).set('Idempotency-Key', 'race-1').send(body)));
      expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    });

    it('scopes keys to the app', async () => {
      const other = await createVideoApp(api, { name: 'Other' });
      const body = {
        scheduled_at: new Date(api.clock.now().getTime() + 3_600_000).toISOString(),
        duration_minutes: 20,
        guest: { name: 'L', email: 'l@example.com' },
      };
      const mine = await api.http.post(path()).set(app.auth).set('Idempotency-Key', 'shared-key').send(body).expect(201);
      const theirs = await api.http.post(`/v1/apps/${other.id}/scheduled-calls`).set(other.auth).set('Idempotency-Key', 'shared-key').send(body).expect(201);
      expect(theirs.body.id).not.toBe(mine.body.id);
    });
  });

  describe('listing', () => {
    let lister: TestVideoApp;
    const listPath = () => `/v1/apps/${lister.id}/scheduled-calls`;

    beforeAll(async () => {
      lister = await createVideoApp(api, { name: 'Lister' });
      for (let i = 0; i < 7; i++) {
        api.clock.advance(1_000);
        const call = await createBooking(api, lister, { scheduled_at: new Date(api.clock.now().getTime() + (i + 1) * 3_600_000).toISOString() });
        if (i % 3 === 0) await api.http.post(`${listPath()}/${call.id}/cancel`).set(lister.auth).send({}).expect(200);
      }
    });

    it('pages newest first with a cursor until next_cursor is null, without gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: Record<string, string | number> = { limit: 3 };
        if (cursor) query.cursor = cursor;
        const page: { body: { data: Array<{ id: string; created_at: string }>; next_cursor: string | null } } = await api.http
          .get(listPath())
          .query(query)
          .set(lister.auth)
          .expect(200);
        seen.push(...page.body.data.map((c) => c.id));
        cursor = page.body.next_cursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
      const all = (await api.http.get(listPath()).query({ limit: 100 }).set(lister.auth).expect(200)).body;
      expect(all.data.map((c: { id: string }) => c.id)).toEqual(seen);
      const created = all.data.map((c: { created_at: string }) => c.created_at);
      expect([...created].sort().reverse()).toEqual(created);
      expect(all.next_cursor).toBeNull();
    });

    it('filters by status, several statuses, and scheduled_at range', async () => {
      const cancelled = (await api.http.get(listPath()).query({ status: 'cancelled' }).set(lister.auth).expect(200)).body.data;
      expect(cancelled).toHaveLength(3);
      expect(cancelled.every((c: { status: string }) => c.status === 'cancelled')).toBe(true);
      const both = (await api.http.get(listPath()).query({ status: 'cancelled,scheduled' }).set(lister.auth).expect(200)).body.data;
      expect(both).toHaveLength(7);
      const all = (await api.http.get(listPath()).query({ limit: 100 }).set(lister.auth).expect(200)).body.data;
      const times = all.map((c: { scheduled_at: string }) => c.scheduled_at).sort();
      const ranged = (await api.http.get(listPath()).query({ from: times[2], to: times[5] }).set(lister.auth).expect(200)).body.data;
      expect(ranged.map((c: { scheduled_at: string }) => c.scheduled_at).sort()).toEqual(times.slice(2, 5));
    });
  });
});
