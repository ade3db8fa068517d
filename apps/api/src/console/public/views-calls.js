// Scheduled calls of one app: status and timeline, so an admin can see what fired each event; and one
// call's page with the deliveries of its events.
import { api, pageOf, paths, query } from './api.js';
import { appTabs, hrefs } from './nav.js';
import { badge, dataTable, definitionList, exactTime, field, h, httpStatusText, Pager, plural, replaceKeepingFocus, time, viewerZone, when } from './ui.js';

const STATUSES = [
  ['', 'All statuses'],
  ['pending_confirmation', 'Pending confirmation'],
  ['scheduled', 'Scheduled'],
  ['confirmed', 'Confirmed'],
  ['cancelled', 'Cancelled'],
  ['no_show', 'No-show'],
];

export async function callsView(ctx, appId) {
  const app = await ctx.app(appId);
  ctx.title(`Scheduled calls · ${app.name}`);
  ctx.appCrumbs(app, ['Scheduled calls']);
  const pager = new Pager(ctx.params);
  const status = h(
    'select',
    { name: 'status' },
    STATUSES.map(([value, label]) => h('option', { value, selected: value === (ctx.params.get('status') ?? '') }, label)),
  );
  const results = h('div', { class: 'results' });
  const load = async () => {
    const page = pageOf(await api('GET', paths.calls(appId) + query({ status: status.value, limit: 20, cursor: pager.current })));
    pager.next = page.next_cursor;
    if (!ctx.current) return;
    ctx.setParams({ status: status.value, ...pager.params });
    replaceKeepingFocus(
      results,
      page.data.length ? callsTable(appId, page.data) : h('p', { class: 'empty' }, status.value ? 'No calls with this status.' : 'No scheduled calls yet.'),
      pager.page > 1 || pager.next ? pager.controls('Scheduled calls', () => load().catch(ctx.fail)) : null,
    );
  };
  status.addEventListener('change', () => {
    pager.reset();
    load().catch(ctx.fail);
  });
  await load();
  ctx.render(
    h('h1', {}, 'Scheduled calls'),
    appTabs(appId, 'calls'),
    h('p', { class: 'lead' }, 'Newest first. Open a call to see its timeline and the webhooks its events sent.'),
    h('div', { class: 'toolbar' }, field('Status', status), h('button', { type: 'button', class: 'button', onclick: () => load().catch(ctx.fail) }, 'Refresh')),
    results,
  );
}

function callsTable(appId, calls) {
  return dataTable({
    caption: 'Scheduled calls',
    className: 'calls',
    columns: ['When', 'Guest', 'Agent', 'Status', 'Timeline'],
    rows: calls.map((call) => ({
      attrs: { 'data-call-id': call.id },
      cells: [
        [
          h('a', { href: hrefs.call(appId, call.id), 'data-key': `call:${call.id}` }, bookingTime(call)),
          h('div', { class: 'muted' }, `${call.duration_minutes} min`),
        ],
        [call.guest?.name ?? '—', h('div', { class: 'muted' }, call.guest?.email ?? '')],
        call.agent ? (call.agent.name ?? call.agent.id) : h('span', { class: 'muted' }, 'none'),
        badge(call.status),
        timeline(call),
      ],
    })),
  });
}

/**
 * A booking's start in the booking's own zone, named, with the reader's local time beside it when the
 * two zones differ: "3 Dec 2026, 09:00:00 GMT+9 (Asia/Tokyo) · your time: 3 Dec 2026, 01:00:00 CET".
 */
export function bookingTime(call) {
  const zone = call.timezone || 'UTC';
  let own;
  try {
    own = exactTime(call.scheduled_at, zone);
  } catch {
    own = exactTime(call.scheduled_at, 'UTC'); // a zone this browser does not know
  }
  const local = zone === viewerZone() ? null : exactTime(call.scheduled_at);
  return h(
    'span',
    { class: 'booking-time' },
    h('time', { datetime: call.scheduled_at, class: 'booking-zone' }, `${own} (${zone})`),
    local ? h('span', { class: 'local-time' }, ' · your time: ', h('time', { datetime: call.scheduled_at }, local)) : null,
  );
}

/** The booking's history, each step with the event it fired (joins fire none). */
function timeline(call, open = false) {
  const steps = [
    [call.created_at, 'Created', 'scheduled.created'],
    [call.confirmed_at, 'Confirmed by the customer', 'scheduled.confirmed'],
    call.reschedule_count > 0
      ? [
          null,
          [`Rescheduled ${call.reschedule_count}×`, call.previous_scheduled_at ? [', last from ', when(call.previous_scheduled_at)] : null],
          'scheduled.rescheduled',
        ]
      : null,
    [call.cancelled_at, `Cancelled${call.cancellation_reason ? `: “${call.cancellation_reason}”` : ''}`, 'scheduled.cancelled'],
    [call.no_show_at, 'Nobody joined in time: no-show', 'scheduled.no_show'],
    [call.guest_joined_at, 'Guest joined', null],
    [call.agent_joined_at, 'Agent joined', null],
  ].filter((step) => step && (step[0] || step[2] === 'scheduled.rescheduled'));
  steps.sort((a, b) => (a[0] && b[0] ? Date.parse(a[0]) - Date.parse(b[0]) : 0));
  return h(
    'details',
    { class: 'timeline', open },
    h('summary', {}, `Timeline (${plural(steps.length, 'step')})`),
    h(
      'ol',
      {},
      steps.map(([at, text, event]) =>
        h('li', {}, at ? [when(at), ' — '] : null, text, event ? [' ', h('code', {}, event)] : h('span', { class: 'muted' }, ' (no event)')),
      ),
    ),
    h('p', { class: 'muted' }, 'Call ', h('code', {}, call.id), ` · version ${call.version}`),
  );
}

/** One booking: when (in its zone and the reader's), who, its timeline, and every webhook its events sent. */
export async function callView(ctx, appId, callId) {
  const app = await ctx.app(appId);
  const call = await api('GET', paths.call(appId, callId));
  const who = call.guest?.name ?? 'guest';
  ctx.title(`Call with ${who} · ${app.name}`);
  ctx.appCrumbs(app, ['Scheduled calls', hrefs.calls(appId)], [`Call with ${who}`]);
  const deliveries = h('div', { class: 'results' });
  // Subscription URLs by id, to say where each delivery went (one list read for the page).
  const urls = new Map(pageOf(await api('GET', paths.subscriptions(appId) + query({ limit: 100 }))).data.map((s) => [s.id, s.url]));
  const load = async () => {
    let page;
    try {
      page = pageOf(await api('GET', paths.callDeliveries(appId, callId) + query({ limit: 100 })));
    } catch (error) {
      // The call exists (it was just read): a 404 here is an API without the route, not a missing call.
      if (error?.status !== 404) throw error;
      page = null;
    }
    if (!ctx.current) return;
    if (!page) return replaceKeepingFocus(deliveries, h('p', { class: 'muted' }, 'This API does not list a call’s deliveries.'));
    replaceKeepingFocus(
      deliveries,
      page.data.length ? callDeliveriesTable(appId, page.data, urls) : h('p', { class: 'empty' }, 'No webhook deliveries for this call’s events.'),
    );
  };
  await load();
  ctx.render(
    h('h1', {}, `Call with ${who}`),
    appTabs(appId, 'calls'),
    definitionList([
      ['Status', badge(call.status)],
      ['Starts', bookingTime(call)],
      ['Duration', `${call.duration_minutes} min`],
      ['Guest', [call.guest?.name ?? '—', call.guest?.email ? [' · ', call.guest.email] : null]],
      ['Agent', call.agent ? (call.agent.name ?? call.agent.id) : h('span', { class: 'muted' }, 'none')],
      ['Call ID', h('code', {}, call.id)],
      ['Version', String(call.version)],
    ]),
    timeline(call, true),
    h(
      'section',
      { 'aria-labelledby': 'call-deliveries-title' },
      h(
        'div',
        { class: 'section-head' },
        h('h2', { id: 'call-deliveries-title' }, 'Webhook deliveries'),
        h('span', { class: 'muted' }, 'Refreshes every 2 seconds'),
      ),
      deliveries,
    ),
  );
  ctx.every(2000, load);
}

function callDeliveriesTable(appId, list, urls) {
  return dataTable({
    caption: 'Deliveries of this call’s events, newest first',
    className: 'deliveries',
    columns: ['Event', 'Subscription', 'Status', 'Attempts', 'Last response', 'Created'],
    rows: list.map((d) => ({
      attrs: { 'data-delivery-id': d.id, 'data-status': d.status },
      cells: [
        h(
          'a',
          { href: hrefs.delivery(appId, d.subscription_id, d.id), 'data-key': `delivery:${d.id}` },
          h('code', {}, d.event),
          h('span', { class: 'visually-hidden' }, `, delivery ${d.id}`),
        ),
        h('a', { href: hrefs.subscription(appId, d.subscription_id) }, h('code', { class: 'url' }, urls.get(d.subscription_id) ?? d.subscription_id)),
        badge(d.status),
        String(d.attempt_count),
        d.attempt_count ? `HTTP ${httpStatusText(d.last_response_status)}` : h('span', { class: 'muted' }, 'not sent yet'),
        time(d.created_at),
      ],
    })),
  });
}
