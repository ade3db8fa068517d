// One delivery: its facts, "Retry now", and each attempt with the request as sent and the response.
import { api, paths } from './api.js';
import { hrefs } from './nav.js';
import { badge, copyButton, definitionList, h, httpStatusText, replaceKeepingFocus, time, when } from './ui.js';

export async function deliveryView(ctx, appId, subId, deliveryId) {
  const app = await ctx.app(appId);
  let delivery = await api('GET', paths.delivery(appId, deliveryId));
  ctx.title(`Delivery ${delivery.event}`);
  ctx.appCrumbs(
    app,
    ['Scheduled calls', hrefs.calls(appId)],
    ['Config', hrefs.config(appId)],
    ['Deliveries', hrefs.subscription(appId, subId)],
    [`${delivery.event} delivery`],
  );
  const facts = h('div');
  const attempts = h('div', { class: 'attempts' });
  const retry = h('button', { type: 'button', class: 'button primary', 'data-key': 'retry', 'aria-describedby': 'retry-hint' }, 'Retry now');
  const retryHint = h('span', { class: 'hint', id: 'retry-hint' });
  const retryStatus = h('p', { class: 'retry-status', role: 'status' });
  let busy = false;
  let shown = '';
  const show = (fresh, force = false) => {
    delivery = fresh;
    const snapshot = JSON.stringify(fresh);
    if ((!force && snapshot === shown) || !ctx.current) return;
    shown = snapshot;
    const bookingId = fresh.scheduled_call_id ?? bookingIdOf(fresh);
    replaceKeepingFocus(
      facts,
      definitionList([
        ['Status', badge(fresh.status)],
        ['Event', h('code', {}, fresh.event)],
        ['Event ID', h('code', {}, fresh.event_id)],
        fresh.test ? ['Booking', h('span', { class: 'muted' }, 'none: a test send, with an example booking')] : null,
        bookingId && !fresh.test
          ? [
              'Booking',
              [
                h('a', { href: hrefs.call(appId, bookingId) }, fresh.guest_name ? `Call with ${fresh.guest_name}` : 'Open the booking'),
                ' ',
                h('code', {}, bookingId),
              ],
            ]
          : null,
        ['Delivery ID', h('code', {}, fresh.id)],
        ['Attempts', String(fresh.attempt_count)],
        [
          'Next attempt',
          fresh.next_attempt_at
            ? [time(fresh.next_attempt_at), ' (', when(fresh.next_attempt_at), ')']
            : h('span', { class: 'muted' }, fresh.status === 'held' ? 'none while the subscription is paused' : 'none'),
        ],
        ['Created', when(fresh.created_at)],
        ['Updated', when(fresh.updated_at)],
      ]),
    );
    // The API refuses a retry (409) of a held delivery (until the subscription is resumed) and of a test send.
    const refused = retryRefused(fresh);
    retry.disabled = busy || Boolean(refused);
    retryHint.textContent = refused ?? 'One manual attempt now, signed with the current secret.';
    replaceKeepingFocus(attempts, attemptList(fresh.attempts ?? []));
  };
  const reload = async () => show(await api('GET', paths.delivery(appId, deliveryId)));
  retry.addEventListener('click', async () => {
    const before = (delivery.attempts ?? []).length;
    busy = true;
    retry.disabled = true;
    retryStatus.textContent = 'Sending one manual attempt…';
    try {
      const accepted = await api('POST', `${paths.delivery(appId, deliveryId)}/retry`);
      show({ ...delivery, ...accepted, attempts: delivery.attempts }, true);
      retryStatus.textContent = `Retry accepted; waiting for attempt ${before + 1} to land…`;
      const landed = await waitForAttempt(ctx, appId, deliveryId, before, show);
      if (!ctx.current) return;
      retryStatus.textContent = landed
        ? `Attempt ${landed.attempt} landed: ${landed.response_status ? `HTTP ${landed.response_status}` : (landed.error ?? 'no response')}. Delivery status: ${delivery.status}.`
        : 'The attempt has not landed yet; this page keeps refreshing.';
    } catch (error) {
      retryStatus.textContent = '';
      ctx.fail(error);
    } finally {
      busy = false;
      retry.disabled = Boolean(retryRefused(delivery));
      retry.focus();
    }
  });
  show(delivery, true);
  ctx.render(
    h('h1', {}, 'Delivery of ', h('code', {}, delivery.event)),
    h('p', {}, h('a', { href: hrefs.subscription(appId, subId) }, 'Back to the delivery log')),
    facts,
    h('div', { class: 'actions' }, retry, retryHint),
    retryStatus,
    h(
      'section',
      { 'aria-labelledby': 'attempts-title' },
      h('h2', { id: 'attempts-title' }, 'Attempts'),
      h('p', { class: 'hint' }, 'Oldest first. Each shows the request exactly as sent and what the receiver answered.'),
      attempts,
    ),
  );
  ctx.every(2000, reload);
}

/** Why "Retry now" cannot be used on this delivery, or null. */
function retryRefused(delivery) {
  if (delivery.status === 'held') return 'Held while the subscription is paused: resume it to send this delivery.';
  if (delivery.test) return 'A test send has one attempt: send another test event from the subscription’s page.';
  return null;
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

/** The booking an attempt's body was about, for deliveries whose resource does not name it. */
function bookingIdOf(delivery) {
  for (const attempt of delivery.attempts ?? []) {
    try {
      const id = JSON.parse(attempt.request_body ?? 'null')?.payload?.scheduled_call?.id;
      if (id && !JSON.parse(attempt.request_body).test) return id;
    } catch {
      // not JSON
    }
  }
  return null;
}

const TRIGGERS = { automatic: 'automatic', manual: 'manual retry', test: 'test send' };

function attemptList(list) {
  if (list.length === 0) return h('p', { class: 'empty' }, 'No attempt yet.');
  return h(
    'ol',
    { class: 'attempt-list' },
    list.map((a, i) => h('li', {}, attemptEntry(a, i === list.length - 1))),
  );
}

/** One attempt: a summary line, then the request and the response, each part copyable. */
function attemptEntry(a, last) {
  const ok = a.response_status >= 200 && a.response_status < 300;
  const label = `attempt ${a.attempt}`;
  return h(
    'article',
    { class: 'attempt', 'data-attempt': a.attempt, 'data-trigger': a.trigger, 'aria-labelledby': `attempt-${a.attempt}-title` },
    h('h3', { id: `attempt-${a.attempt}-title` }, `Attempt ${a.attempt}`, h('span', { class: 'muted' }, ` · ${TRIGGERS[a.trigger] ?? a.trigger}`)),
    h(
      'p',
      { class: 'attempt-line' },
      h('span', { class: `http ${ok ? 'ok' : 'bad'}` }, `HTTP ${httpStatusText(a.response_status)}`),
      a.duration_ms === null || a.duration_ms === undefined ? null : ` · ${a.duration_ms} ms`,
      ' · ',
      time(a.started_at),
      ' (',
      when(a.started_at),
      ')',
    ),
    a.error ? h('p', { class: 'error-text' }, a.error) : null,
    h(
      'details',
      { class: 'exchange', 'data-key': `exchange:${a.attempt}`, open: last },
      h('summary', {}, 'Request and response', h('span', { class: 'visually-hidden' }, ` of ${label}`)),
      h(
        'div',
        { class: 'exchange-parts' },
        h(
          'section',
          { class: 'request', 'aria-label': `Request of ${label}` },
          h('h4', {}, 'Request as sent'),
          part('Headers', headersText(a.request_headers), label, 'request headers'),
          part('Body', prettyBody(a.request_body), label, 'request body', a.request_body),
        ),
        h(
          'section',
          { class: 'response', 'aria-label': `Response of ${label}` },
          h('h4', {}, 'Response'),
          h('p', {}, 'Status: ', h('span', { class: `http ${ok ? 'ok' : 'bad'}` }, httpStatusText(a.response_status))),
          a.response_headers ? part('Headers', headersText(a.response_headers), label, 'response headers') : null,
          part('Body (first 4 KiB)', a.response_body, label, 'response body'),
        ),
      ),
    ),
  );
}

/**
 * A labelled block of text with its own "Copy" button, or a note that nothing was recorded. `raw` is
 * what Copy gives when the text is shown reformatted: a body copies as the exact bytes that were signed.
 */
function part(title, text, label, what, raw = text) {
  const empty = text === null || text === undefined || text === '';
  return h(
    'div',
    { class: 'part' },
    h(
      'div',
      { class: 'part-head' },
      h('h5', {}, title),
      empty ? null : copyButton('Copy', typeof raw === 'string' ? raw : String(text), { hiddenLabel: ` ${what} of ${label}` }),
    ),
    empty ? h('p', { class: 'muted' }, text === '' ? 'empty' : 'not recorded') : h('pre', { class: 'body' }, String(text)),
  );
}

/** Headers one per line, as on the wire ("Name: value"). */
function headersText(headers) {
  if (!headers || typeof headers !== 'object') return headers ?? null;
  const entries = Array.isArray(headers) ? headers.map((pair) => (Array.isArray(pair) ? pair : [pair.name, pair.value])) : Object.entries(headers);
  return entries.map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}`).join('\n');
}

/** A JSON body indented for reading; anything else as it was. */
function prettyBody(body) {
  if (body === null || body === undefined) return null;
  if (typeof body === 'object') return JSON.stringify(body, null, 2);
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return String(body);
  }
}
