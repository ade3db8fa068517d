// A subscription's page: its card and health, the success-rate chart, "send a test event", "recover
// failed", and the delivery log with its filters (kept in the address).
import { api, countAll, pageOf, paths, query } from './api.js';
import { hrefs } from './nav.js';
import {
  badge,
  dataTable,
  dialog,
  exactTime,
  field,
  fieldError,
  formErrors,
  h,
  handleSubmit,
  httpStatusText,
  Pager,
  panelForm,
  plural,
  replaceKeepingFocus,
  time,
  viewerZone,
} from './ui.js';
import { statsSection } from './views-stats.js';
import { EVENT_TYPES, subscriptionActions, subscriptionCard } from './views-config.js';

const STATUSES = [
  ['', 'All statuses'],
  ['pending', 'Pending'],
  ['retrying', 'Retrying'],
  ['succeeded', 'Succeeded'],
  ['failed', 'Failed'],
  ['held', 'Held (paused)'],
];

export async function deliveriesView(ctx, appId, subId) {
  const app = await ctx.app(appId);
  const sub = await api('GET', paths.subscription(appId, subId));
  ctx.title(`Deliveries · ${sub.url}`);
  ctx.appCrumbs(app, ['Scheduled calls', hrefs.calls(appId)], ['Config', hrefs.config(appId)], [`Deliveries to ${sub.url}`]);
  const summary = h('div');
  const secretSlot = h('div', { class: 'secret-slot' });
  const results = h('div', { class: 'results' });
  const filters = filterForm(ctx.params);
  const pager = new Pager(ctx.params);
  let shownSub = '';
  let shownPage = '';
  const load = async (force = false) => {
    const values = filters.values();
    const [fresh, body] = await Promise.all([
      api('GET', paths.subscription(appId, subId)),
      api('GET', paths.deliveries(appId, subId) + query({ ...values, limit: 20, cursor: pager.current })),
    ]);
    const page = pageOf(body);
    pager.next = page.next_cursor;
    if (!ctx.current) return;
    ctx.setParams({ ...values, window: stats.window, ...pager.params });
    if (force || JSON.stringify(fresh) !== shownSub) {
      shownSub = JSON.stringify(fresh);
      replaceKeepingFocus(summary, subscriptionCard(appId, fresh, actions, { deliveriesLink: false, level: 2 }));
    }
    if (force || JSON.stringify(page) !== shownPage) {
      shownPage = JSON.stringify(page);
      const filtered = Object.values(values).some(Boolean);
      replaceKeepingFocus(
        results,
        page.data.length
          ? deliveriesTable(appId, subId, page.data)
          : h(
              'p',
              { class: 'empty' },
              filtered
                ? values.status && Object.values(values).filter(Boolean).length === 1
                  ? 'No deliveries with this status.'
                  : 'No deliveries match these filters.'
                : 'No deliveries yet: they appear here when a booking changes.',
            ),
        pager.page > 1 || pager.next ? pager.controls('Deliveries', () => load(true).catch(ctx.fail)) : null,
      );
    }
  };
  const actions = subscriptionActions(ctx, appId, {
    changed: () => load(true),
    secretSlot,
    afterDelete: (message) => ctx.navigate(hrefs.config(appId), message),
  });
  const stats = statsSection(ctx, appId, subId, ctx.params.get('window'), () => ctx.setParams({ ...filters.values(), window: stats.window, ...pager.params }));
  filters.onApply(async () => {
    const previous = filters.values();
    try {
      filters.commit();
    } catch (problem) {
      filters.errors.show(problem);
      return;
    }
    pager.reset();
    try {
      await load(true);
      filters.errors.clear();
    } catch (error) {
      if (error?.status !== 400 && error?.status !== 422) return ctx.fail(error);
      // Keep listing with the filters that worked; the refused value stays in its field, marked.
      filters.revert(previous);
      filters.errors.show(error);
    }
  });
  await Promise.all([load(true), stats.load()]);
  ctx.onLeave(() => secretSlot.replaceChildren());
  ctx.render(
    h('h1', {}, 'Deliveries'),
    secretSlot,
    summary,
    stats.element,
    testEventForm(ctx, appId, subId),
    recoverForm(ctx, appId, subId, () => load(true)),
    h(
      'section',
      { 'aria-labelledby': 'log-title' },
      h(
        'div',
        { class: 'section-head' },
        h('h2', { id: 'log-title' }, 'Delivery log'),
        h('span', { class: 'muted' }, 'Newest first; refreshes every 2 seconds'),
      ),
      filters.element,
      results,
    ),
  );
  ctx.every(2000, async () => {
    await load();
    await stats.load();
  });
}

/** Status, event type, date range (in the reader's zone), booking id and event id. */
function filterForm(params) {
  const zone = viewerZone();
  const controls = {
    status: h(
      'select',
      { name: 'status' },
      STATUSES.map(([value, label]) => h('option', { value, selected: value === (params.get('status') ?? '') }, label)),
    ),
    event: h(
      'select',
      { name: 'event' },
      [['', 'All event types'], ...EVENT_TYPES.map((e) => [e, e])].map(([value, label]) =>
        h('option', { value, selected: value === (params.get('event') ?? '') }, label),
      ),
    ),
    from: h('input', { type: 'datetime-local', name: 'from', step: '1', value: localInputValue(params.get('from')) }),
    to: h('input', { type: 'datetime-local', name: 'to', step: '1', value: localInputValue(params.get('to')) }),
    scheduled_call_id: h('input', {
      type: 'text',
      name: 'scheduled_call_id',
      value: params.get('scheduled_call_id') ?? '',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: 'booking id (UUID)',
    }),
    event_id: h('input', {
      type: 'text',
      name: 'event_id',
      value: params.get('event_id') ?? '',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: 'event id (UUID)',
    }),
  };
  const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const errors = formErrors(error, controls);
  const clear = h('button', { type: 'button', class: 'button' }, 'Clear filters');
  const element = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Find a delivery', novalidate: true },
    h(
      'div',
      { class: 'toolbar' },
      field('Status', controls.status),
      field('Event type', controls.event),
      field(`From (your time, ${zone})`, controls.from),
      field(`To (your time, ${zone})`, controls.to),
      field('Booking ID', controls.scheduled_call_id),
      field('Event ID', controls.event_id),
    ),
    error,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Apply filters'), clear),
  );
  let apply = () => undefined;
  element.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  // Choosing in a list applies at once; typed fields apply with Enter or "Apply filters".
  controls.status.addEventListener('change', () => apply());
  controls.event.addEventListener('change', () => apply());
  clear.addEventListener('click', () => {
    controls.status.value = '';
    controls.event.value = '';
    for (const name of ['from', 'to', 'scheduled_call_id', 'event_id']) controls[name].value = '';
    apply();
  });
  const read = () => {
    const instant = (input) => (input.value && !Number.isNaN(new Date(input.value).getTime()) ? new Date(input.value).toISOString() : '');
    return {
      status: controls.status.value,
      event: controls.event.value,
      from: instant(controls.from),
      to: instant(controls.to),
      scheduled_call_id: controls.scheduled_call_id.value.trim(),
      event_id: controls.event_id.value.trim(),
    };
  };
  let applied = read();
  return {
    element,
    errors,
    onApply(fn) {
      apply = fn;
    },
    /** The filters in force, as the API's query (instants in UTC); the automatic refresh uses these. */
    values() {
      return { ...applied };
    },
    /** Puts what the form says in force, or throws the problems (ids that are not ids, a range backwards). */
    commit() {
      const next = read();
      const problems = [];
      for (const [name, what] of [
        ['scheduled_call_id', 'A booking ID'],
        ['event_id', 'An event ID'],
      ]) {
        if (next[name] && !UUID.test(next[name]))
          problems.push({ field: name, message: `${what} looks like 0190a6f2-7c1e-7d3a-9b2f-4e8d1c0a5b6e: check what was pasted.` });
      }
      if (next.from && next.to && next.from >= next.to) problems.push({ field: 'to', message: '“To” must be after “From”.' });
      if (problems.length) throw { message: problems.map((p) => p.message).join(' '), errors: problems };
      applied = next;
    },
    revert(values) {
      applied = values;
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Each row says which booking, which event and whose: a log of identical "scheduled.created" rows helps nobody. */
function deliveriesTable(appId, subId, deliveries) {
  return dataTable({
    caption: 'Deliveries, newest first',
    className: 'deliveries',
    columns: ['Event', 'Booking', 'Status', 'Attempts', 'Last response', 'Next attempt', 'Created'],
    rows: deliveries.map((d) => ({
      attrs: { 'data-delivery-id': d.id, 'data-status': d.status },
      cells: [
        [
          h(
            'a',
            { href: hrefs.delivery(appId, subId, d.id), 'data-key': `delivery:${d.id}` },
            h('code', {}, d.event),
            h('span', { class: 'visually-hidden' }, `, delivery ${d.id}`),
          ),
          h('div', { class: 'muted id-line' }, 'event ', h('code', { class: 'event-id' }, d.event_id)),
        ],
        d.test
          ? h('span', { class: 'muted' }, 'test send (example booking)')
          : d.scheduled_call_id
            ? [
                h(
                  'a',
                  { href: hrefs.call(appId, d.scheduled_call_id), class: 'booking-link' },
                  d.guest_name ? `Call with ${d.guest_name}` : 'Booking',
                  h('span', { class: 'visually-hidden' }, ` ${d.scheduled_call_id}`),
                ),
                h('div', { class: 'muted id-line' }, h('code', {}, d.scheduled_call_id)),
              ]
            : h('span', { class: 'muted' }, '—'),
        badge(d.status),
        String(d.attempt_count),
        d.attempt_count
          ? `HTTP ${httpStatusText(d.last_response_status)}`
          : h('span', { class: 'muted' }, d.status === 'held' ? 'not sent: held' : 'not sent yet'),
        time(d.next_attempt_at),
        time(d.created_at),
      ],
    })),
  });
}

/** Sends one test event (a signed example booking, `"test": true`) and opens its delivery to watch the attempt land. */
function testEventForm(ctx, appId, subId) {
  const event = h(
    'select',
    { name: 'test_event' },
    EVENT_TYPES.map((e) => h('option', { value: e }, e)),
  );
  const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const errors = formErrors(error, { event });
  const submit = h('button', { type: 'submit', class: 'button' }, 'Send test event');
  const form = panelForm(
    'test-title',
    'Send a test event',
    [
      h(
        'p',
        { class: 'hint' },
        'An example booking, signed like every delivery, with "test": true in the body. Sent now, whatever the subscription’s event list.',
      ),
      h('div', { class: 'toolbar' }, field('Event to send', event), submit),
    ],
    error,
  );
  handleSubmit(form, { button: submit, errors, fail: ctx.fail }, async () => {
    const delivery = await api('POST', `${paths.subscription(appId, subId)}/test`, { event: event.value });
    ctx.navigate(hrefs.delivery(appId, subId, delivery.id), `Test ${event.value} sent; its attempt appears below when it lands.`);
  });
  return form;
}

/** "Recover failed since…": counts what would be re-sent, asks, then re-sends. */
function recoverForm(ctx, appId, subId, reload) {
  const since = h('input', {
    type: 'datetime-local',
    name: 'since',
    required: true,
    value: localInputValue(new Date(Date.now() - 24 * 3600_000).toISOString()),
  });
  const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const errors = formErrors(error, { since });
  const submit = h('button', { type: 'submit', class: 'button' }, 'Recover failed deliveries');
  const form = panelForm(
    'recover-title',
    'Recover failed deliveries',
    field(
      'Re-send failed deliveries since',
      since,
      `In your time (${viewerZone()}). Each failed delivery of an event since then gets one new attempt; you confirm the count first.`,
    ),
    error,
    submit,
  );
  handleSubmit(form, { button: submit, errors, fail: ctx.fail }, async () => {
    const at = new Date(since.value);
    if (!since.value || Number.isNaN(at.getTime())) throw fieldError('since', 'Enter a date and time.');
    // The same selection the API recovers: failed, event at or after `since`.
    const { count, more } = await countAll(paths.deliveries(appId, subId), { status: 'failed', from: at.toISOString() });
    if (count === 0) throw fieldError('since', `No failed delivery since ${exactTime(at)}: nothing to re-send.`);
    submit.disabled = false;
    const countText = `${more ? 'more than ' : ''}${plural(count, 'failed delivery', 'failed deliveries')}`;
    const result = await dialog({
      title: `Re-send ${countText}?`,
      body: [
        h(
          'p',
          {},
          `Each failed delivery of an event since ${exactTime(at)} gets one new attempt now, signed with the current secret: `,
          h('strong', { class: 'recover-count' }, countText),
          '.',
        ),
        h('p', { class: 'hint' }, 'Receivers see them again (same event ids), so an idempotent receiver ignores the ones it already handled.'),
      ],
      confirm: `Re-send ${countText}`,
      focus: 'cancel',
      submit: () => api('POST', `${paths.subscription(appId, subId)}/recover`, { since: at.toISOString() }),
    });
    if (result) {
      const sent = typeof result.recovered === 'number' ? result.recovered : count;
      ctx.notify(`Re-sent ${plural(sent, 'failed delivery', 'failed deliveries')} since ${exactTime(at)}.`);
      await reload();
    }
    submit.disabled = false;
    submit.focus();
  });
  return form;
}

/** An instant as a datetime-local value in the reader's zone ('' for none). */
function localInputValue(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export { deliveryView } from './views-delivery.js';
