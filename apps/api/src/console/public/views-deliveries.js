// A subscription's delivery log, and one delivery with its attempts and "Retry now".
import { api, pageOf, paths, query } from './api.js';
import { hrefs } from './nav.js';
import { badge, definitionList, field, h, httpStatusText, Pager, replaceKeepingFocus, showError, time } from './ui.js';
import { subscriptionActions, subscriptionCard } from './views-config.js';

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
  let sub = await api('GET', paths.subscription(appId, subId));
  ctx.title(`Deliveries · ${sub.url}`);
  ctx.appCrumbs(app, ['Scheduled calls', hrefs.calls(appId)], ['Config', hrefs.config(appId)], [`Deliveries to ${sub.url}`]);
  const summary = h('div');
  const secretSlot = h('div', { class: 'secret-slot' });
  const results = h('div', { class: 'results' });
  const status = h('select', { name: 'status' }, STATUSES.map(([value, label]) => h('option', { value }, label)));
  const pager = new Pager();
  let shownSub = '';
  let shownPage = '';
  const load = async (force = false) => {
    const [fresh, body] = await Promise.all([
      api('GET', paths.subscription(appId, subId)),
      api('GET', paths.deliveries(appId, subId) + query({ status: status.value, limit: 20, cursor: pager.current })),
    ]);
    const page = pageOf(body);
    pager.next = page.next_cursor;
    if (!ctx.current) return;
    sub = fresh;
    if (force || JSON.stringify(fresh) !== shownSub) {
      shownSub = JSON.stringify(fresh);
      replaceKeepingFocus(summary, subscriptionCard(appId, fresh, actions, { deliveriesLink: false }));
    }
    if (force || JSON.stringify(page) !== shownPage) {
      shownPage = JSON.stringify(page);
      replaceKeepingFocus(
        results,
        page.data.length ? deliveriesTable(appId, subId, page.data) : h('p', { class: 'empty' }, status.value ? 'No deliveries with this status.' : 'No deliveries yet: they appear here when a booking changes.'),
        pager.page > 1 || pager.next ? pager.controls('Deliveries', () => load(true).catch(ctx.fail)) : null,
      );
    }
  };
  const actions = subscriptionActions(ctx, appId, { changed: () => load(true), secretSlot });
  status.addEventListener('change', () => {
    pager.reset();
    load(true).catch(ctx.fail);
  });
  await load(true);
  ctx.onLeave(() => secretSlot.replaceChildren());
  ctx.render(
    h('h1', {}, 'Deliveries'),
    secretSlot,
    summary,
    recoverForm(ctx, appId, subId, () => load(true)),
    h(
      'section',
      { 'aria-labelledby': 'log-title' },
      h('div', { class: 'section-head' }, h('h2', { id: 'log-title' }, 'Delivery log'), h('span', { class: 'muted' }, 'Refreshes every 2 seconds')),
      h('div', { class: 'toolbar' }, field('Status', status)),
      results,
    ),
  );
  ctx.every(2000, () => load());
}

function deliveriesTable(appId, subId, deliveries) {
  return h(
    'table',
    { class: 'deliveries' },
    h('caption', { class: 'visually-hidden' }, 'Deliveries, newest first'),
    h('thead', {}, h('tr', {}, ['Event', 'Status', 'Attempts', 'Last response', 'Next attempt', 'Created', 'Updated'].map((label) => h('th', { scope: 'col' }, label)))),
    h(
      'tbody',
      {},
      deliveries.map((d) =>
        h(
          'tr',
          { 'data-delivery-id': d.id, 'data-status': d.status },
          h('th', { scope: 'row' }, h('a', { href: hrefs.delivery(appId, subId, d.id), 'data-key': `delivery:${d.id}` }, h('code', {}, d.event), h('span', { class: 'visually-hidden' }, `, delivery ${d.id}`))),
          h('td', {}, badge(d.status)),
          h('td', {}, String(d.attempt_count)),
          h('td', {}, d.attempt_count ? `HTTP ${httpStatusText(d.last_response_status)}` : h('span', { class: 'muted' }, '—')),
          h('td', {}, time(d.next_attempt_at)),
          h('td', {}, time(d.created_at)),
          h('td', {}, time(d.updated_at)),
        ),
      ),
    ),
  );
}

/** "Recover failed since…": re-sends the failed deliveries created since an instant. */
function recoverForm(ctx, appId, subId, reload) {
  const since = h('input', { type: 'datetime-local', name: 'since', required: true, value: localInputValue(new Date(Date.now() - 24 * 3600_000)) });
  const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'button' }, 'Recover failed deliveries');
  const form = h(
    'form',
    { class: 'panel inline', novalidate: true, 'aria-labelledby': 'recover-title' },
    h('h2', { id: 'recover-title' }, 'Recover failed deliveries'),
    field('Re-send failed deliveries since', since, 'In your local time. Each failed delivery since then gets one new attempt.'),
    error,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const at = new Date(since.value);
    if (!since.value || Number.isNaN(at.getTime())) {
      showError(error, { message: 'Enter a date and time.' });
      since.focus();
      return;
    }
    submit.disabled = true;
    try {
      const result = await api('POST', `${paths.subscription(appId, subId)}/recover`, { since: at.toISOString() });
      const count = countOf(result);
      ctx.notify(count === null ? 'Recovery started for the failed deliveries.' : `Re-sent ${count} failed deliver${count === 1 ? 'y' : 'ies'} since ${at.toLocaleString()}.`);
      await reload();
    } catch (err) {
      showError(error, err);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function countOf(result) {
  if (typeof result === 'number') return result;
  for (const name of ['recovered', 'count']) {
    if (typeof result?.[name] === 'number') return result[name];
    if (Array.isArray(result?.[name])) return result[name].length;
  }
  return null;
}

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export async function deliveryView(ctx, appId, subId, deliveryId) {
  const app = await ctx.app(appId);
  let delivery = await api('GET', paths.delivery(appId, deliveryId));
  ctx.title(`Delivery ${delivery.event}`);
  ctx.appCrumbs(app, ['Scheduled calls', hrefs.calls(appId)], ['Config', hrefs.config(appId)], ['Deliveries', hrefs.subscription(appId, subId)], [`${delivery.event} delivery`]);
  const facts = h('div');
  const attempts = h('div');
  const retry = h('button', { type: 'button', class: 'button primary', 'data-key': 'retry' }, 'Retry now');
  const retryStatus = h('p', { class: 'retry-status', role: 'status' });
  let shown = '';
  const show = (fresh, force = false) => {
    delivery = fresh;
    const snapshot = JSON.stringify(fresh);
    if ((!force && snapshot === shown) || !ctx.current) return;
    shown = snapshot;
    replaceKeepingFocus(
      facts,
      definitionList([
        ['Status', badge(fresh.status)],
        ['Event', h('code', {}, fresh.event)],
        ['Event ID', h('code', {}, fresh.event_id)],
        ['Delivery ID', h('code', {}, fresh.id)],
        ['Attempts', String(fresh.attempt_count)],
        ['Next attempt', time(fresh.next_attempt_at)],
        ['Created', time(fresh.created_at)],
        ['Updated', time(fresh.updated_at)],
      ]),
    );
    replaceKeepingFocus(attempts, attemptsTable(fresh.attempts ?? []));
  };
  const reload = async () => show(await api('GET', paths.delivery(appId, deliveryId)));
  retry.addEventListener('click', async () => {
    const before = (delivery.attempts ?? []).length;
    retry.disabled = true;
    retryStatus.textContent = 'Sending one manual attempt…';
    try {
      const accepted = await api('POST', `${paths.delivery(appId, deliveryId)}/retry`);
      show({ ...delivery, ...accepted, attempts: delivery.attempts }, true);
      retryStatus.textContent = `Retry accepted; waiting for attempt ${before + 1} to land…`;
      const landed = await waitForAttempt(ctx, appId, deliveryId, before, show);
      if (!ctx.current) return;
      retryStatus.textContent = landed
        ? `Attempt ${landed.attempt} landed: ${landed.response_status ? `HTTP ${landed.response_status}` : landed.error ?? 'no response'}. Delivery status: ${delivery.status}.`
        : 'The attempt has not landed yet; this page keeps refreshing.';
    } catch (error) {
      retryStatus.textContent = '';
      ctx.fail(error);
    } finally {
      retry.disabled = false;
    }
  });
  show(delivery, true);
  ctx.render(
    h('h1', {}, 'Delivery of ', h('code', {}, delivery.event)),
    h('p', {}, h('a', { href: hrefs.subscription(appId, subId) }, 'Back to the delivery log')),
    facts,
    h('div', { class: 'actions' }, retry, h('span', { class: 'hint' }, 'One manual attempt now, signed with the current secret.')),
    retryStatus,
    h('section', { 'aria-labelledby': 'attempts-title' }, h('h2', { id: 'attempts-title' }, 'Attempts'), attempts),
  );
  ctx.every(2000, reload);
}

/** Polls the delivery until an attempt after `before` is logged (up to 30 s), showing each read. */
async function waitForAttempt(ctx, appId, deliveryId, before, show) {
  const deadline = Date.now() + 30_000;
  while (ctx.current && Date.now() < deadline) {
    const fresh = await api('GET', paths.delivery(appId, deliveryId));
    show(fresh);
    const list = fresh.attempts ?? [];
    if (list.length > before) return list[list.length - 1];
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  return null;
}

function attemptsTable(list) {
  if (list.length === 0) return h('p', { class: 'empty' }, 'No attempt yet.');
  return h(
    'table',
    { class: 'attempts' },
    h('caption', { class: 'visually-hidden' }, 'Attempts, oldest first'),
    h('thead', {}, h('tr', {}, ['Attempt', 'Trigger', 'Started', 'Duration', 'Response', 'Response body', 'Error'].map((label) => h('th', { scope: 'col' }, label)))),
    h(
      'tbody',
      {},
      list.map((a) =>
        h(
          'tr',
          { 'data-attempt': a.attempt, 'data-trigger': a.trigger },
          h('th', { scope: 'row' }, `#${a.attempt}`),
          h('td', {}, a.trigger === 'manual' ? 'manual' : 'automatic'),
          h('td', {}, time(a.started_at)),
          h('td', {}, a.duration_ms === null || a.duration_ms === undefined ? '—' : `${a.duration_ms} ms`),
          h('td', {}, h('span', { class: `http ${a.response_status >= 200 && a.response_status < 300 ? 'ok' : 'bad'}` }, httpStatusText(a.response_status))),
          h('td', {}, bodyExcerpt(a.response_body)),
          h('td', {}, a.error ? h('span', { class: 'error-text' }, a.error) : h('span', { class: 'muted' }, '—')),
        ),
      ),
    ),
  );
}

function bodyExcerpt(body) {
  if (body === null || body === undefined || body === '') return h('span', { class: 'muted' }, 'empty');
  const text = String(body);
  if (text.length <= 80) return h('code', { class: 'body' }, text);
  return h('details', {}, h('summary', {}, h('code', {}, `${text.slice(0, 80)}…`)), h('pre', { class: 'body' }, text));
}
