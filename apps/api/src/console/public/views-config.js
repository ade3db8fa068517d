// Scheduled calls → Config: the app's webhook subscriptions.
import { api, pageOf, paths, query } from './api.js';
import { appTabs, hrefs } from './nav.js';
import {
  badge,
  dialog,
  errorSlot,
  field,
  fieldError,
  formErrors,
  h,
  handleSubmit,
  httpStatusText,
  Pager,
  panelForm,
  pausedReasonText,
  plural,
  replaceKeepingFocus,
  shownOncePanel,
  time,
  uid,
  when,
} from './ui.js';

export const EVENT_TYPES = ['scheduled.created', 'scheduled.confirmed', 'scheduled.rescheduled', 'scheduled.cancelled', 'scheduled.no_show'];

export async function configView(ctx, appId) {
  const app = await ctx.app(appId);
  ctx.title(`Config · ${app.name}`);
  ctx.appCrumbs(app, ['Scheduled calls', hrefs.calls(appId)], ['Config']);
  const secretSlot = h('div', { class: 'secret-slot' });
  const list = h('div', { class: 'subscriptions' });
  const autoRefresh = h('input', { type: 'checkbox', checked: true });
  const pager = new Pager(ctx.params);
  let shown = '';
  const load = async (force = false) => {
    const page = pageOf(await api('GET', paths.subscriptions(appId) + query({ limit: 20, cursor: pager.current })));
    pager.next = page.next_cursor;
    const snapshot = JSON.stringify(page);
    if ((!force && snapshot === shown) || !ctx.current) return;
    shown = snapshot;
    ctx.setParams(pager.params);
    replaceKeepingFocus(
      list,
      page.data.length
        ? page.data.map((sub) => subscriptionCard(appId, sub, actions))
        : h('p', { class: 'empty' }, 'No subscriptions yet. Add one below to receive this app’s booking events.'),
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
      h(
        'div',
        { class: 'section-head' },
        h('h2', { id: 'subscriptions-title', tabindex: '-1' }, 'Subscriptions'),
        h('label', { class: 'check' }, autoRefresh, ' Refresh automatically'),
      ),
      list,
    ),
    addSubscriptionForm(ctx, appId, actions),
  );
  ctx.every(2000, () => (autoRefresh.checked ? load() : undefined));
}

/**
 * One subscription: status in words, health, events, last delivery, and what can be done with it.
 * `level` is its heading's level: 3 under the Config page's "Subscriptions", 2 on its own page.
 */
export function subscriptionCard(appId, sub, actions, { deliveriesLink = true, level = 3 } = {}) {
  const titleId = uid('sub');
  const paused = sub.status === 'paused';
  return h(
    'article',
    { class: `card subscription status-${sub.status}`, 'aria-labelledby': titleId, 'data-subscription-id': sub.id },
    h('div', { class: 'card-head' }, h(`h${level}`, { id: titleId, class: 'url' }, sub.url), badge(sub.status, paused ? sub.paused_reason : null)),
    sub.description ? h('p', { class: 'description' }, sub.description) : null,
    paused
      ? h(
          'p',
          { class: 'paused-note' },
          `${pausedReasonText(sub.paused_reason)}. New events are held until it is resumed`,
          sub.health?.held_count ? ` (${plural(sub.health.held_count, 'delivery', 'deliveries')} held now).` : '.',
        )
      : null,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Events'),
      h('dd', {}, eventsText(sub.events)),
      h('dt', {}, 'Last delivery'),
      h('dd', { class: 'last-delivery' }, lastDelivery(appId, sub)),
      healthFacts(sub.health),
      h('dt', {}, 'Rate limit'),
      h('dd', {}, sub.rate_limit_per_second ? `${sub.rate_limit_per_second} deliveries per second at most` : 'None'),
      sub.previous_secret_expires_at ? [h('dt', {}, 'Previous secret'), h('dd', {}, 'Still signs too until ', when(sub.previous_secret_expires_at))] : null,
      h('dt', {}, 'Created'),
      h('dd', {}, when(sub.created_at)),
    ),
    h(
      'div',
      { class: 'actions' },
      deliveriesLink
        ? h('a', { class: 'button', href: hrefs.subscription(appId, sub.id), 'data-key': `${sub.id}:deliveries` }, 'Deliveries', hidden(` of ${sub.url}`))
        : null,
      actionButton(sub, 'edit', 'Edit', () => actions.edit(sub)),
      paused ? actionButton(sub, 'resume', 'Resume', () => actions.resume(sub), 'primary') : actionButton(sub, 'pause', 'Pause', () => actions.pause(sub)),
      actionButton(sub, 'rotate', 'Rotate secret', () => actions.rotate(sub)),
      actionButton(sub, 'delete', 'Delete', () => actions.remove(sub), 'danger-outline'),
    ),
  );
}

/** The last delivery; one never attempted says so instead of "no response · 0 attempts". */
function lastDelivery(appId, sub) {
  const last = sub.last_delivery;
  if (!last) return h('span', { class: 'muted' }, 'None yet');
  const outcome = last.attempt_count
    ? ` · HTTP ${httpStatusText(last.response_status)} · ${plural(last.attempt_count, 'attempt')} · `
    : last.status === 'held'
      ? ' · not sent: held while paused · '
      : ' · not sent yet · ';
  return [
    h('a', { href: hrefs.delivery(appId, sub.id, last.id), 'data-key': `${sub.id}:last` }, h('code', {}, last.event)),
    ' ',
    badge(last.status),
    outcome,
    time(last.at),
  ];
}

/** Failure streak, automatic pause and circuit breaker, in words (SPEC §4 `health`). */
function healthFacts(health) {
  if (!health) return null;
  const lines = [];
  if (health.consecutive_failures > 0) {
    lines.push(
      h(
        'li',
        {},
        `${plural(health.consecutive_failures, 'failed attempt')} in a row`,
        health.failing_since ? [', failing since ', when(health.failing_since)] : null,
        '.',
      ),
    );
  }
  if (health.auto_pause_at)
    lines.push(h('li', { class: 'auto-pause' }, 'Will be paused automatically on ', when(health.auto_pause_at), ' unless a delivery succeeds before.'));
  if (health.circuit === 'open')
    lines.push(
      h(
        'li',
        { class: 'circuit' },
        'Circuit open: nothing is sent until the next probe ',
        health.circuit_retry_at ? [time(health.circuit_retry_at), ' (', when(health.circuit_retry_at), ')'] : 'soon',
        '.',
      ),
    );
  if (health.circuit === 'half_open') lines.push(h('li', { class: 'circuit' }, 'Circuit half-open: the next attempt is a probe; a success closes it.'));
  return [
    h('dt', {}, 'Health'),
    h('dd', { class: 'health' }, lines.length ? h('ul', { class: 'plain' }, lines) : 'No failures since the last success; circuit closed.'),
  ];
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
  const element = h('fieldset', { class: 'events', id: uid('events') });
  element.append(
    h('legend', {}, 'Events'),
    h('label', { class: 'check' }, all, ' All events ', h('span', { class: 'muted' }, '(including types added later)')),
    h(
      'div',
      { class: 'event-list' },
      boxes.map((box) => h('label', { class: 'check' }, box, ' ', h('code', {}, box.value))),
    ),
    errorSlot(element),
  );
  return {
    element,
    value() {
      if (all.checked) return ['*'];
      const chosen = boxes.filter((box) => box.checked).map((box) => box.value);
      if (chosen.length === 0) throw fieldError('events', 'Choose at least one event, or all events.');
      return chosen;
    },
  };
}

/** `rate_limit_per_second`: empty for no limit. */
function rateLimitInput(value = null) {
  return h('input', {
    type: 'number',
    name: 'rate_limit_per_second',
    min: '1',
    max: '100000',
    step: '1',
    inputmode: 'numeric',
    value: value ?? '',
    autocomplete: 'off',
  });
}

const RATE_LIMIT_HINT = 'Deliveries per second at most; the rest wait (they are neither failed nor counted as attempts). Empty: no limit.';

function rateLimitValue(input) {
  const text = input.value.trim();
  if (text === '') return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw fieldError('rate_limit_per_second', 'Enter a whole number of deliveries per second (1 or more), or leave it empty for no limit.');
  return n;
}

/** The subscription form's controls, shared by "Add" and "Edit"; `errorFields` names them the API's way. */
function subscriptionFields(sub) {
  const controls = {
    url: h('input', {
      type: 'url',
      name: 'url',
      value: sub?.url ?? '',
      required: true,
      placeholder: 'https://example.com/webhooks',
      autocomplete: 'off',
      spellcheck: 'false',
    }),
    description: h('input', { type: 'text', name: 'description', value: sub?.description ?? '', maxlength: '500', autocomplete: 'off' }),
    events: eventsFieldset(sub?.events ?? ['*']),
    rateLimit: rateLimitInput(sub?.rate_limit_per_second),
  };
  return {
    controls,
    elements: [
      field('Endpoint URL', controls.url, 'Where the signed POST requests are sent: http(s), no credentials in the URL.'),
      field('Description (optional)', controls.description),
      controls.events.element,
      field('Rate limit (optional)', controls.rateLimit, RATE_LIMIT_HINT),
    ],
    errorFields: { url: controls.url, description: controls.description, events: controls.events.element, rate_limit_per_second: controls.rateLimit },
    /** The whole body (for create). Throws a field error the form shows. */
    values() {
      const problems = [];
      const read = (fn) => {
        try {
          return fn();
        } catch (error) {
          problems.push(...(error.errors ?? []));
          return undefined;
        }
      };
      const url = controls.url.value.trim();
      if (!url) problems.push({ field: 'url', message: 'Enter the endpoint URL.' });
      const values = {
        url,
        description: controls.description.value.trim() || null,
        events: read(() => controls.events.value()),
        rate_limit_per_second: read(() => rateLimitValue(controls.rateLimit)),
      };
      if (problems.length) throw { message: problems.map((p) => p.message).join(' '), errors: problems };
      return values;
    },
  };
}

function addSubscriptionForm(ctx, appId, actions) {
  const form = subscriptionFields(null);
  const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const errors = formErrors(error, form.errorFields);
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Add subscription');
  const element = panelForm('add-title', 'Add a subscription', form.elements, error, submit);
  handleSubmit(element, { button: submit, errors, fail: ctx.fail }, async () => {
    const { url, events, description, rate_limit_per_second } = form.values();
    const body = { url, events };
    if (description) body.description = description;
    if (rate_limit_per_second !== null) body.rate_limit_per_second = rate_limit_per_second;
    const created = await api('POST', paths.subscriptions(appId), body);
    form.controls.url.value = '';
    form.controls.description.value = '';
    form.controls.rateLimit.value = '';
    actions.showSecret(created, created.secret, { created: true });
    await actions.changed();
  });
  return element;
}

const sameEvents = (a, b) => JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...(b ?? [])].sort());

/**
 * What the Edit dialog changed, and only that: a PATCH that repeats the URL would be refused when the
 * URL no longer passes the checks (a private address, a name that stopped resolving), even to change
 * the description.
 */
export function subscriptionChanges(sub, values) {
  const changes = {};
  if (values.url !== sub.url) changes.url = values.url;
  if (!sameEvents(values.events, sub.events)) changes.events = values.events;
  if ((values.description ?? null) !== (sub.description || null)) changes.description = values.description;
  if ((values.rate_limit_per_second ?? null) !== (sub.rate_limit_per_second ?? null)) changes.rate_limit_per_second = values.rate_limit_per_second;
  return changes;
}

/** What the buttons on a subscription do; shared by the Config page and the delivery log. */
export function subscriptionActions(ctx, appId, { changed, secretSlot, afterDelete }) {
  const after = async (message) => {
    ctx.notify(message);
    await changed();
  };
  const actions = {
    changed,
    showSecret(sub, secret, { created = false, graceSeconds = 0 } = {}) {
      const grace = !created && graceSeconds > 0 ? ` The old secret keeps signing too (X-ApifyCloud-Signature-Previous) for ${graceText(graceSeconds)}.` : '';
      secretSlot.replaceChildren(
        shownOncePanel(
          {
            title: created ? 'Subscription added: its signing secret' : 'New signing secret',
            label: 'Signing secret',
            value: secret,
            copyLabel: 'Copy secret',
            about: h('p', {}, 'For ', h('code', {}, sub.url), '.', grace),
          },
          () => secretSlot.replaceChildren(),
        ),
      );
      secretSlot.querySelector('h2')?.focus();
    },
    async edit(sub) {
      const form = subscriptionFields(sub);
      const result = await dialog({
        title: 'Edit subscription',
        body: form.elements,
        confirm: 'Save changes',
        fields: form.errorFields,
        submit: async () => {
          const changes = subscriptionChanges(sub, form.values());
          if (Object.keys(changes).length === 0) return { unchanged: true };
          return api('PATCH', paths.subscription(appId, sub.id), changes);
        },
      });
      if (result) await after(result.unchanged ? 'Nothing to save: no field was changed.' : 'Subscription saved.');
      focusKey(`${sub.id}:edit`);
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
      const held = sub.health?.held_count ?? 0;
      const replay = h('input', { type: 'checkbox', checked: true });
      const result = await dialog({
        title: 'Resume subscription',
        body: [
          h('p', {}, 'Deliveries to ', h('code', {}, sub.url), ' start again with the next event.'),
          h(
            'p',
            { class: 'held-count' },
            held ? `${plural(held, 'delivery', 'deliveries')} ${held === 1 ? 'was' : 'were'} held while it was paused.` : 'No delivery is held.',
          ),
          held ? h('label', { class: 'check' }, replay, ` Also send the ${plural(held, 'held delivery', 'held deliveries')}`) : null,
          held
            ? h(
                'p',
                { class: 'hint' },
                'Leave this unticked to skip them: they are marked failed, and you can still retry them one by one or recover them from the delivery log.',
              )
            : null,
        ],
        confirm: 'Resume',
        submit: async () => {
          await api('POST', `${paths.subscription(appId, sub.id)}/resume`, { replay_held: replay.checked });
          return { replayed: replay.checked, held };
        },
      });
      if (result) {
        await after(
          !result.held
            ? 'Resumed.'
            : result.replayed
              ? `Resumed; the ${plural(result.held, 'held delivery is', 'held deliveries are')} being sent.`
              : 'Resumed; the held deliveries were marked failed, not sent.',
        );
        focusKey(`${sub.id}:pause`);
      } else focusKey(`${sub.id}:resume`);
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
          field(
            'Grace period for the old secret',
            grace,
            'During the grace period each delivery also carries the old secret’s signature (X-ApifyCloud-Signature-Previous), so your receiver keeps working while you deploy the new one.',
          ),
        ],
        confirm: 'Rotate secret',
        submit: () => api('POST', `${paths.subscription(appId, sub.id)}/rotate-secret`, { grace_period_seconds: Number(grace.value) }),
      });
      if (rotated) {
        actions.showSecret({ ...sub, ...rotated }, rotated.secret, { graceSeconds: Number(grace.value) });
        await changed();
      } else focusKey(`${sub.id}:rotate`);
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
      if (!done) return focusKey(`${sub.id}:delete`);
      const message = `Subscription to ${sub.url} deleted.`;
      if (afterDelete) return afterDelete(message);
      ctx.notify(message);
      await changed();
      // Its card (and the button pressed) is gone: focus the list's heading rather than the page's top.
      document.getElementById('subscriptions-title')?.focus();
    },
  };
  return actions;
}

/** After a dialog or a refresh, keep keyboard focus on the button that stands where the pressed one was. */
function focusKey(key) {
  document.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

function graceText(seconds) {
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}
