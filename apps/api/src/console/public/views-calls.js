// Scheduled calls of one app: status and timeline, so an admin can see what fired each event.
import { api, pageOf, paths, query } from './api.js';
import { appTabs } from './nav.js';
import { badge, field, h, Pager, replaceKeepingFocus, time } from './ui.js';

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
  const pager = new Pager();
  const status = h('select', { name: 'status' }, STATUSES.map(([value, label]) => h('option', { value }, label)));
  const results = h('div', { class: 'results' });
  const load = async () => {
    const page = pageOf(await api('GET', paths.calls(appId) + query({ status: status.value, limit: 20, cursor: pager.current })));
    pager.next = page.next_cursor;
    if (!ctx.current) return;
    replaceKeepingFocus(
      results,
      page.data.length ? callsTable(page.data) : h('p', { class: 'empty' }, status.value ? 'No calls with this status.' : 'No scheduled calls yet.'),
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
    h('p', { class: 'lead' }, 'Newest first. Open a call’s timeline to see each change and the webhook event it fired.'),
    h('div', { class: 'toolbar' }, field('Status', status), h('button', { type: 'button', class: 'button', onclick: () => load().catch(ctx.fail) }, 'Refresh')),
    results,
  );
}

function callsTable(calls) {
  return h(
    'table',
    { class: 'calls' },
    h('caption', { class: 'visually-hidden' }, 'Scheduled calls'),
    h('thead', {}, h('tr', {}, ['When', 'Guest', 'Agent', 'Status', 'Timeline'].map((label) => h('th', { scope: 'col' }, label)))),
    h(
      'tbody',
      {},
      calls.map((call) =>
        h(
          'tr',
          { 'data-call-id': call.id },
          h('td', {}, time(call.scheduled_at), h('div', { class: 'muted' }, `${call.duration_minutes} min · ${call.timezone ?? 'UTC'}`)),
          h('td', {}, call.guest?.name ?? '—', h('div', { class: 'muted' }, call.guest?.email ?? '')),
          h('td', {}, call.agent ? call.agent.name ?? call.agent.id : h('span', { class: 'muted' }, 'none')),
          h('td', {}, badge(call.status)),
          h('td', {}, timeline(call)),
        ),
      ),
    ),
  );
}

/** The booking's history, each step with the event it fired (joins fire none). */
function timeline(call) {
  const steps = [
    [call.created_at, 'Created', 'scheduled.created'],
    [call.confirmed_at, 'Confirmed by the customer', 'scheduled.confirmed'],
    call.reschedule_count > 0 ? [null, `Rescheduled ${call.reschedule_count}×${call.previous_scheduled_at ? ', last from ' + new Date(call.previous_scheduled_at).toLocaleString() : ''}`, 'scheduled.rescheduled'] : null,
    [call.cancelled_at, `Cancelled${call.cancellation_reason ? `: “${call.cancellation_reason}”` : ''}`, 'scheduled.cancelled'],
    [call.no_show_at, 'Nobody joined in time: no-show', 'scheduled.no_show'],
    [call.guest_joined_at, 'Guest joined', null],
    [call.agent_joined_at, 'Agent joined', null],
  ].filter((step) => step && (step[0] || step[2] === 'scheduled.rescheduled'));
  steps.sort((a, b) => (a[0] && b[0] ? Date.parse(a[0]) - Date.parse(b[0]) : 0));
  return h(
    'details',
    { class: 'timeline' },
    h('summary', {}, `Timeline (${steps.length} step${steps.length === 1 ? '' : 's'})`),
    h('ol', {}, steps.map(([at, text, event]) => h('li', {}, at ? [time(at), ' — '] : null, text, event ? [' ', h('code', {}, event)] : h('span', { class: 'muted' }, ' (no event)')))),
    h('p', { class: 'muted' }, 'Call ', h('code', {}, call.id), ` · version ${call.version}`),
  );
}
