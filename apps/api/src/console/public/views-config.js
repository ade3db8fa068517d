// Scheduled calls → Config: the app's webhook subscriptions.
import { api, pageOf, paths, query } from './api.js';
import { appTabs, hrefs } from './nav.js';
import { badge, copyText, dialog, field, h, httpStatusText, Pager, pausedReasonText, replaceKeepingFocus, showError, time, uid } from './ui.js';

export const EVENT_TYPES = ['scheduled.created', 'scheduled.confirmed', 'scheduled.rescheduled', 'scheduled.cancelled', 'scheduled.no_show'];

export async function configView(ctx, appId) {
  const app = await ctx.app(appId);
  ctx.title(`Config · ${app.name}`);
  ctx.appCrumbs(app, ['Scheduled calls', hrefs.calls(appId)], ['Config']);
  const secretSlot = h('div', { class: 'secret-slot' });
  const list = h('div', { class: 'subscriptions' });
  const autoRefresh = h('input', { type: 'checkbox', checked: true });
  const pager = new Pager();
  let shown = '';
  const load = async (force = false) => {
    const page = pageOf(await api('GET', paths.subscriptions(appId) + query({ limit: 20, cursor: pager.current })));
    pager.next = page.next_cursor;
    const snapshot = JSON.stringify(page);
    if ((!force && snapshot === shown) || !ctx.current) return;
    shown = snapshot;
    replaceKeepingFocus(
      list,
      page.data.length ? page.data.map((sub) => subscriptionCard(appId, sub, actions)) : h('p', { class: 'empty' }, 'No subscriptions yet. Add one below to receive this app’s booking events.'),
      pager.page > 1 || pager.next ? pager.controls('Subscriptions', () => load(true).catch(ctx.fail)) : null,
    );
  };
  const actions = subscriptionActions(ctx, appId, { changed: () => load(true), secretSlot });
  await load(true);
  ctx.onLeave(() => secretSlot.replaceChildren()); // the one-time secret never outlives the page
  ctx.render(
    h('h1', {}, 'Config'),
    appTabs(appId, 'config'),
    h('p', { class: 'lead' }, `Webhooks of ${app.name}: where each booking change is sent, signed with the subscription’s secret.`),
    secretSlot,
    h(
      'section',
      { 'aria-labelledby': 'subscriptions-title' },
      h('div', { class: 'section-head' }, h('h2', { id: 'subscriptions-title' }, 'Subscriptions'), h('label', { class: 'check' }, autoRefresh, ' Refresh automatically')),
      list,
    ),
    addSubscriptionForm(ctx, appId, actions),
  );
  ctx.every(2000, () => (autoRefresh.checked ? load() : undefined));
}

/** One subscription: status in words, events, last delivery, and what can be done with it. */
export function subscriptionCard(appId, sub, actions, { deliveriesLink = true } = {}) {
  const titleId = uid('sub');
  const last = sub.last_delivery;
  const paused = sub.status === 'paused';
  return h(
    'article',
    { class: `card subscription status-${sub.status}`, 'aria-labelledby': titleId, 'data-subscription-id': sub.id },
    h('div', { class: 'card-head' }, h('h3', { id: titleId, class: 'url' }, sub.url), badge(sub.status, paused ? sub.paused_reason : null)),
    sub.description ? h('p', { class: 'description' }, sub.description) : null,
    paused ? h('p', { class: 'paused-note' }, `Paused ${pausedReasonText(sub.paused_reason)}. New events are held until it is resumed.`) : null,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Events'),
      h('dd', {}, eventsText(sub.events)),
      h('dt', {}, 'Last delivery'),
      h(
        'dd',
        { class: 'last-delivery' },
        last
          ? [
              h('a', { href: hrefs.delivery(appId, sub.id, last.id), 'data-key': `${sub.id}:last` }, h('code', {}, last.event)),
              ' ',
              badge(last.status),
              ` · HTTP ${httpStatusText(last.response_status)} · ${last.attempt_count} attempt${last.attempt_count === 1 ? '' : 's'} · `,
              time(last.at),
            ]
          : h('span', { class: 'muted' }, 'None yet'),
      ),
      sub.previous_secret_expires_at ? [h('dt', {}, 'Previous secret'), h('dd', {}, 'Still signs too until ', time(sub.previous_secret_expires_at))] : null,
      h('dt', {}, 'Created'),
      h('dd', {}, time(sub.created_at)),
    ),
    h(
      'div',
      { class: 'actions' },
      deliveriesLink ? h('a', { class: 'button', href: hrefs.subscription(appId, sub.id), 'data-key': `${sub.id}:deliveries` }, 'Deliveries', hidden(` of ${sub.url}`)) : null,
      actionButton(sub, 'edit', 'Edit', () => actions.edit(sub)),
      paused ? actionButton(sub, 'resume', 'Resume', () => actions.resume(sub), 'primary') : actionButton(sub, 'pause', 'Pause', () => actions.pause(sub)),
      actionButton(sub, 'rotate', 'Rotate secret', () => actions.rotate(sub)),
      actionButton(sub, 'delete', 'Delete', () => actions.remove(sub), 'danger-outline'),
    ),
  );
}

function actionButton(sub, key, label, onclick, kind = '') {
  return h('button', { type: 'button', class: `button ${kind}`, 'data-key': `${sub.id}:${key}`, onclick }, label, hidden(` ${sub.url}`));
}

const hidden = (text) => h('span', { class: 'visually-hidden' }, text);

function eventsText(events) {
  if (!Array.isArray(events) || events.length === 0) return '—';
  if (events.includes('*')) return 'All events';
  return events.map((event, i) => [i ? ', ' : '', h('code', {}, event)]);
}

/** Checkboxes for the allowlist; "All events" subscribes to "*" (including event types added later). */
export function eventsFieldset(selected = ['*']) {
  const all = h('input', { type: 'checkbox', value: '*', checked: selected.includes('*') });
  const boxes = EVENT_TYPES.map((event) => h('input', { type: 'checkbox', value: event, checked: selected.includes('*') || selected.includes(event) }));
  const sync = () => {
    for (const box of boxes) {
      box.disabled = all.checked;
      if (all.checked) box.checked = true;
    }
  };
  all.addEventListener('change', sync);
  sync();
  const element = h(
    'fieldset',
    { class: 'events' },
    h('legend', {}, 'Events'),
    h('label', { class: 'check' }, all, ' All events ', h('span', { class: 'muted' }, '(including types added later)')),
    h('div', { class: 'event-list' }, boxes.map((box) => h('label', { class: 'check' }, box, ' ', h('code', {}, box.value)))),
  );
  return {
    element,
    value() {
      if (all.checked) return ['*'];
      const chosen = boxes.filter((box) => box.checked).map((box) => box.value);
      if (chosen.length === 0) throw { message: 'Choose at least one event, or all events.' };
      return chosen;
    },
  };
}

function addSubscriptionForm(ctx, appId, actions) {
  const url = h('input', { type: 'url', name: 'url', required: true, placeholder: 'https://example.com/webhooks', autocomplete: 'off', spellcheck: 'false' });
  const description = h('input', { type: 'text', name: 'description', maxlength: '500', autocomplete: 'off' });
  const events = eventsFieldset(['*']);
  const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Add subscription');
  const form = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-labelledby': 'add-title' },
    h('h2', { id: 'add-title' }, 'Add a subscription'),
    field('Endpoint URL', url, 'Where the signed POST requests are sent: http(s), no credentials in the URL.'),
    field('Description (optional)', description),
    events.element,
    error,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const body = { url: url.value.trim(), events: events.value() };
      if (description.value.trim()) body.description = description.value.trim();
      const created = await api('POST', paths.subscriptions(appId), body);
      url.value = '';
      description.value = '';
      actions.showSecret(created, created.secret, { created: true });
      await actions.changed();
    } catch (err) {
      showError(error, err);
      if (err?.status === 401) ctx.fail(err);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** What the buttons on a subscription do; shared by the Config page and the delivery log. */
export function subscriptionActions(ctx, appId, { changed, secretSlot }) {
  const after = async (message) => {
    ctx.notify(message);
    await changed();
  };
  const actions = {
    changed,
    showSecret(sub, secret, { created = false, graceSeconds = 0 } = {}) {
      secretSlot.replaceChildren(secretPanel(sub, secret, { created, graceSeconds }, () => secretSlot.replaceChildren()));
      secretSlot.querySelector('h2')?.focus();
    },
    async edit(sub) {
      const url = h('input', { type: 'url', value: sub.url, required: true, autocomplete: 'off', spellcheck: 'false' });
      const description = h('input', { type: 'text', value: sub.description ?? '', maxlength: '500', autocomplete: 'off' });
      const events = eventsFieldset(sub.events ?? ['*']);
      const done = await dialog({
        title: 'Edit subscription',
        body: [field('Endpoint URL', url), field('Description (optional)', description), events.element],
        confirm: 'Save changes',
        submit: async () => {
          const body = { url: url.value.trim(), events: events.value() };
          const text = description.value.trim();
          if (text !== (sub.description ?? '')) body.description = text || null;
          return api('PATCH', paths.subscription(appId, sub.id), body);
        },
      });
      if (done) await after('Subscription saved.');
    },
    async pause(sub) {
      try {
        await api('POST', `${paths.subscription(appId, sub.id)}/pause`);
        await after(`Paused: nothing is sent to ${sub.url}; new events are held until you resume.`);
        focusKey(`${sub.id}:resume`);
      } catch (error) {
        ctx.fail(error);
      }
    },
    async resume(sub) {
      const replay = h('input', { type: 'checkbox', checked: true });
      const result = await dialog({
        title: 'Resume subscription',
        body: [
          h('p', {}, 'Deliveries to ', h('code', {}, sub.url), ' start again with the next event.'),
          h('label', { class: 'check' }, replay, ' Also send the deliveries held while it was paused'),
          h('p', { class: 'hint' }, 'Leave this unticked to skip them: they are marked failed, and you can still retry them one by one or recover them from the delivery log.'),
        ],
        confirm: 'Resume',
        submit: async () => {
          await api('POST', `${paths.subscription(appId, sub.id)}/resume`, { replay_held: replay.checked });
          return { replayed: replay.checked };
        },
      });
      if (result) {
        await after(result.replayed ? 'Resumed; the held deliveries are being sent.' : 'Resumed; the held deliveries were marked failed, not sent.');
        focusKey(`${sub.id}:pause`);
      }
    },
    async rotate(sub) {
      const grace = h(
        'select',
        {},
        [
          ['0', 'None: the old secret stops working now'],
          ['900', '15 minutes'],
          ['3600', '1 hour'],
          ['86400', '24 hours'],
        ].map(([value, label]) => h('option', { value, selected: value === '3600' }, label)),
      );
      const rotated = await dialog({
        title: 'Rotate signing secret',
        body: [
          h('p', {}, 'A new secret signs every delivery to ', h('code', {}, sub.url), ' from now on.'),
          field('Grace period for the old secret', grace, 'During the grace period each delivery also carries the old secret’s signature (X-ApifyCloud-Signature-Previous), so your receiver keeps working while you deploy the new one.'),
        ],
        confirm: 'Rotate secret',
        submit: () => api('POST', `${paths.subscription(appId, sub.id)}/rotate-secret`, { grace_period_seconds: Number(grace.value) }),
      });
      if (rotated) {
        actions.showSecret({ ...sub, ...rotated }, rotated.secret, { graceSeconds: Number(grace.value) });
        await changed();
      }
    },
    async remove(sub) {
      const done = await dialog({
        title: 'Delete subscription?',
        body: [h('p', {}, 'Events stop being sent to ', h('code', {}, sub.url), ' at once. This cannot be undone.')],
        confirm: 'Delete subscription',
        danger: true,
        focus: 'cancel',
        submit: () => api('DELETE', paths.subscription(appId, sub.id)),
      });
      if (done) {
        ctx.notify(`Subscription to ${sub.url} deleted.`);
        if (location.hash !== hrefs.config(appId)) ctx.navigate(hrefs.config(appId), `Subscription to ${sub.url} deleted.`);
        else await changed();
      }
    },
  };
  return actions;
}

/** Pause and Resume replace each other: keep keyboard focus on the button that took the pressed one's place. */
function focusKey(key) {
  document.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

/** The secret, shown once: it is not stored anywhere by the console and the API never returns it again. */
function secretPanel(sub, secret, { created, graceSeconds }, dismiss) {
  const value = h('input', { type: 'text', readOnly: true, value: secret ?? '', class: 'secret-value', spellcheck: 'false', autocomplete: 'off' });
  const status = h('span', { class: 'copy-status', role: 'status' });
  const copy = h('button', {
    type: 'button',
    class: 'button primary',
    onclick: async () => {
      status.textContent = (await copyText(secret, value)) ? 'Copied to the clipboard.' : 'Copy was refused by the browser: the secret is selected, press Ctrl+C.';
    },
  }, 'Copy secret');
  const grace = !created && graceSeconds > 0 ? ` The old secret keeps signing too (X-ApifyCloud-Signature-Previous) for ${graceText(graceSeconds)}.` : '';
  return h(
    'section',
    { class: 'secret-panel', 'aria-labelledby': 'secret-title' },
    h('h2', { id: 'secret-title', tabindex: '-1' }, created ? 'Subscription added: its signing secret' : 'New signing secret'),
    h('p', { class: 'warning' }, h('strong', {}, 'Copy this secret now. It is shown only once: '), 'the console cannot show it again. Keep it in your secret manager, out of source control.'),
    h('p', {}, 'For ', h('code', {}, sub.url), '.', grace),
    field('Signing secret', value),
    h('div', { class: 'actions' }, copy, h('button', { type: 'button', class: 'button', onclick: dismiss }, 'I have stored it, hide it'), status),
  );
}

function graceText(seconds) {
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}
