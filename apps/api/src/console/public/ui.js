// DOM helpers. Everything is built with createElement and text nodes, never innerHTML: response
// bodies and descriptions come from outside and must stay text.

let lastId = 0;
export const uid = (prefix) => `${prefix}-${++lastId}`;

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'readOnly', 'required', 'open']);

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (PROPERTIES.has(name)) el[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Replaces an element's content; children may be nested arrays, and null/false are skipped. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** `h` for inline SVG (the chart): attributes only, no properties or listeners. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

// ---- time ----
// Every instant is shown with its zone: the reader's own (named) unless the thing has one of its own,
// like a booking. Recent instants read as "3 min ago", with the exact time on hover and on focus.

const formats = new Map();
function formatter(timeZone) {
  const key = timeZone ?? '';
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long', ...(timeZone ? { timeZone } : {}) }));
  return formats.get(key);
}

export const viewerZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** "3 Dec 2026, 10:04:05 GMT+1": the instant in `timeZone` (the reader's by default), zone included. */
export function exactTime(iso, timeZone) {
  return formatter(timeZone).format(new Date(iso));
}

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const UNITS = [
  ['second', 1, 45],
  ['minute', 60, 45 * 60],
  ['hour', 3600, 22 * 3600],
  ['day', 86400, 30 * 86400],
];

/** "3 min ago", "in 5 sec"; null beyond a month, where a date says more. */
export function relativeTime(iso, now = Date.now()) {
  const seconds = (Date.parse(iso) - now) / 1000;
  const unit = UNITS.find(([, , limit]) => Math.abs(seconds) < limit);
  return unit ? relativeFormat.format(Math.round(seconds / unit[1]), unit[0]) : null;
}

/**
 * A recent instant as a keyboard-reachable <time>: relative text, the exact time (with its zone) in
 * `title` for the mouse and in a CSS tooltip on focus. `refreshRelativeTimes` keeps the text current.
 */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', {}, String(iso));
  const exact = exactTime(date);
  const relative = relativeTime(date.toISOString());
  if (!relative) return h('time', { datetime: date.toISOString() }, exact);
  return h('time', { datetime: date.toISOString(), title: exact, 'data-exact': exact, 'data-relative': '', class: 'rel', tabindex: '0' }, relative);
}

/** An instant written out in full with its zone: for dates that matter as dates (created, expiry, pause). */
export function when(iso, timeZone) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: new Date(iso).toISOString() }, exactTime(iso, timeZone));
}

/** Updates the text of every relative <time> on the page (only text nodes change, nothing is re-announced). */
export function refreshRelativeTimes(root = document) {
  for (const el of root.querySelectorAll('time[data-relative]')) {
    const text = relativeTime(el.getAttribute('datetime'));
    if (text && el.textContent !== text) el.textContent = text;
  }
}

const STATUS_WORDS = {
  active: 'active',
  failing: 'failing',
  paused: 'paused',
  pending: 'pending',
  retrying: 'retrying',
  succeeded: 'succeeded',
  failed: 'failed',
  held: 'held',
  pending_confirmation: 'pending confirmation',
  scheduled: 'scheduled',
  confirmed: 'confirmed',
  cancelled: 'cancelled',
  no_show: 'no-show',
};

const PAUSE_REASONS = {
  manual: 'Paused by an admin',
  auto: 'Paused automatically after failing for days without a success',
  gone: 'Paused because the receiver answered 410 Gone',
};

/** A status in words; colour only repeats what the text says. */
export function badge(status, extra) {
  return h(
    'span',
    { class: `badge badge-${String(status).replace(/[^a-z_]/g, '')}`, 'data-status': status },
    STATUS_WORDS[status] ?? String(status),
    extra ? ` (${extra})` : null,
  );
}

/** "Paused because the receiver answered 410 Gone": a whole sentence start for each reason. */
export function pausedReasonText(reason) {
  return PAUSE_REASONS[reason] ?? (reason ? `Paused (${reason})` : 'Paused');
}

export function httpStatusText(code) {
  if (code === null || code === undefined) return 'no response';
  return String(code);
}

export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** An API error in words: its message once (the API's message already joins the field messages). */
export function errorContent(error) {
  return h('span', {}, error?.message || 'Something went wrong.');
}

export function showError(container, error) {
  fill(container, errorContent(error));
  container.hidden = false;
}

/**
 * The errors of one form. A field the API (or the page) names gets its message beside it, tied with
 * aria-invalid and aria-describedby; the summary shows only what no field carries; focus goes to the
 * first field at fault. `fields` maps the API's field names to controls made with `field()` (or a
 * fieldset from `eventsFieldset`).
 */
export function formErrors(summary, fields) {
  const marked = [];
  const clear = () => {
    summary.hidden = true;
    summary.replaceChildren();
    for (const control of marked.splice(0)) setFieldError(control, null);
  };
  return {
    clear,
    show(error) {
      clear();
      const unplaced = [];
      for (const item of Array.isArray(error?.errors) ? error.errors : []) {
        const control = fields[String(item.field ?? '').split(/[.[]/)[0]];
        if (control && !marked.includes(control)) {
          setFieldError(control, item.message);
          marked.push(control);
        } else if (!control) unplaced.push(item.message);
      }
      if (marked.length === 0 || unplaced.length) {
        fill(summary, marked.length ? unplaced.join('; ') : errorContent(error));
        summary.hidden = false;
      }
      // The submit button was disabled while the request ran, which dropped focus to the page: put it
      // on the first field at fault, or on the message itself.
      if (marked[0]) focusTarget(marked[0])?.focus();
      else {
        summary.setAttribute('tabindex', '-1');
        summary.focus();
      }
    },
  };
}

function focusTarget(control) {
  return control.tagName === 'FIELDSET' ? control.querySelector('input:not(:disabled)') : control;
}

function setFieldError(control, message) {
  const slot = document.getElementById(`${control.id}-error`);
  if (!slot) return;
  const describedBy = (control.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id && id !== slot.id);
  if (message) {
    slot.textContent = message;
    slot.hidden = false;
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', [slot.id, ...describedBy].join(' '));
  } else {
    slot.textContent = '';
    slot.hidden = true;
    control.removeAttribute('aria-invalid');
    if (describedBy.length) control.setAttribute('aria-describedby', describedBy.join(' '));
    else control.removeAttribute('aria-describedby');
  }
}

/**
 * Runs `handler` when `form` is submitted, with `button` disabled meanwhile; what it throws is shown by
 * `errors` (beside its field), except a 401, which goes to `fail` (the console signs out).
 */
export function handleSubmit(form, { button, errors, fail }, handler) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.clear();
    button.disabled = true;
    try {
      await handler();
    } catch (error) {
      button.disabled = false; // before focus moves: a disabled button cannot hold it
      if (error?.status === 401 && fail) fail(error);
      else errors.show(error);
    } finally {
      button.disabled = false;
    }
  });
}

/** A form in a panel, named by its heading: `children`, then the error summary and the actions. */
export function panelForm(titleId, title, children, error, ...actions) {
  return h(
    'form',
    { class: 'panel', novalidate: true, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title),
    children,
    error,
    actions.length ? h('div', { class: 'actions' }, actions) : null,
  );
}

/** A problem with one field, in the shape of the API's errors (for `formErrors`). */
export function fieldError(field, message) {
  return { message, errors: [{ field, message }] };
}

/** The slot a field's error goes in; `formErrors` finds it by the control's id. */
export function errorSlot(control) {
  control.id ||= uid('field');
  return h('p', { class: 'field-error', id: `${control.id}-error`, hidden: true });
}

/**
 * A modal <dialog> (keyboard trapped and Esc to close, natively). `submit(form)` runs on confirm; if it
 * throws, the error is shown inside the dialog (beside its field when `fields` names it) and it stays
 * open. Resolves with submit's result, or null when cancelled. Focus returns to where it was, or to
 * `returnFocus()` when that element is gone.
 */
export function dialog({ title, body = [], confirm, danger = false, submit, focus = 'first-field', fields = {} }) {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
    const errors = formErrors(error, fields);
    const confirmButton = h('button', { type: 'submit', class: danger ? 'button danger' : 'button primary' }, confirm);
    const cancelButton = h('button', { type: 'button', class: 'button', onclick: () => finish(null) }, 'Cancel');
    const form = h(
      'form',
      { class: 'dialog-form', novalidate: true },
      h('h2', { id: titleId }, title),
      body,
      error,
      h('div', { class: 'actions' }, confirmButton, cancelButton),
    );
    const dlg = h('dialog', { 'aria-labelledby': titleId }, form);
    let result = null;
    let settled = false;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      result = value;
      dlg.close();
    };
    dlg.addEventListener('close', () => {
      settled = true;
      dlg.remove();
      resolve(result);
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      confirmButton.disabled = true;
      errors.clear();
      try {
        const value = await submit(form);
        finish(value ?? true);
      } catch (err) {
        confirmButton.disabled = false;
        errors.show(err);
      }
    });
    document.body.append(dlg);
    dlg.showModal();
    const target = focus === 'cancel' ? cancelButton : (form.querySelector('input, select, textarea') ?? confirmButton);
    target.focus();
  });
}

export function isDialogOpen() {
  return document.querySelector('dialog[open]') !== null;
}

/**
 * Replaces `container`'s content and, when focus was inside it on an element with data-key, puts focus
 * back on the new element with the same key: an automatic refresh must not throw keyboard users out.
 * Disclosures (<details data-key>) the reader opened stay open.
 */
export function replaceKeepingFocus(container, ...children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-key') : null;
  const open = new Map([...container.querySelectorAll('details[data-key]')].map((d) => [d.getAttribute('data-key'), d.open]));
  fill(container, children);
  for (const details of container.querySelectorAll('details[data-key]')) {
    const wasOpen = open.get(details.getAttribute('data-key'));
    if (wasOpen !== undefined) details.open = wasOpen;
  }
  if (key) container.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

/**
 * Cursor pagination: a stack of the cursors that opened each page, so "Previous" works too. The stack
 * goes in the address (`cursor`, and `back` for the earlier ones), so Back from a delivery and a
 * shared link open the same page.
 */
export class Pager {
  constructor(params) {
    this.reset();
    const cursor = params?.get('cursor');
    if (cursor) this.cursors = [null, ...(params.get('back') ?? '').split('.').filter(Boolean), cursor];
  }
  reset() {
    this.cursors = [null];
    this.next = null;
  }
  get current() {
    return this.cursors[this.cursors.length - 1];
  }
  get page() {
    return this.cursors.length;
  }
  /** The address parameters of this page (empty on the first). */
  get params() {
    return { cursor: this.current, back: this.cursors.slice(1, -1).join('.') };
  }
  forward() {
    if (this.next) this.cursors.push(this.next);
  }
  back() {
    if (this.cursors.length > 1) this.cursors.pop();
  }
  controls(label, reload) {
    return h(
      'nav',
      { class: 'pager', 'aria-label': `${label} pages` },
      h(
        'button',
        {
          type: 'button',
          class: 'button',
          disabled: this.page === 1,
          'data-key': `${label}:prev`,
          onclick: () => {
            this.back();
            reload();
          },
        },
        'Previous page',
      ),
      h('span', { class: 'muted' }, `Page ${this.page}`),
      h(
        'button',
        {
          type: 'button',
          class: 'button',
          disabled: !this.next,
          'data-key': `${label}:next`,
          onclick: () => {
            this.forward();
            reload();
          },
        },
        'Next page',
      ),
    );
  }
}

/** A labelled form field with a slot for its error; `input` is the control element. */
export function field(label, input, hint) {
  const id = input.id || uid('field');
  input.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: hintId }, hint) : null, errorSlot(input));
}

export function definitionList(entries) {
  return h(
    'dl',
    { class: 'facts' },
    entries.filter(Boolean).map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
  );
}

/**
 * A table that becomes a list of labelled blocks on a phone (console.css): each cell carries its
 * column's name. `rows` are { attrs, cells }; the first cell is the row's header.
 */
export function dataTable({ caption, columns, rows, className }) {
  return h(
    'table',
    { class: `stack ${className ?? ''}`.trim() },
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map(({ attrs, cells }) =>
        h(
          'tr',
          attrs ?? {},
          cells.map((cell, i) => h(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : null, 'data-label': columns[i] }, cell)),
        ),
      ),
    ),
  );
}

/** Copies text to the clipboard; falls back to selecting it in a field when the API is refused. */
export async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!fallbackInput) return false;
    fallbackInput.focus();
    fallbackInput.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/** A "Copy …" button that says what happened in a status beside it. */
export function copyButton(label, text, { hiddenLabel = '', fallbackInput, kind = '' } = {}) {
  const status = h('span', { class: 'copy-status', role: 'status' });
  const button = h(
    'button',
    {
      type: 'button',
      class: `button small ${kind}`.trim(),
      onclick: async () => {
        status.textContent = (await copyText(text, fallbackInput)) ? 'Copied.' : 'Copy was refused by the browser: select the text and press Ctrl+C.';
      },
    },
    label,
    hiddenLabel ? h('span', { class: 'visually-hidden' }, hiddenLabel) : null,
  );
  return h('span', { class: 'copy' }, button, status);
}

/**
 * A secret shown once (a signing secret, an API key): the console keeps no copy and the API never
 * returns it again. `dismiss` hides it.
 */
export function shownOncePanel({ title, label, value, about, copyLabel }, dismiss) {
  const input = h('input', { type: 'text', readOnly: true, value: value ?? '', class: 'secret-value', spellcheck: 'false', autocomplete: 'off' });
  const status = h('span', { class: 'copy-status', role: 'status' });
  const copy = h(
    'button',
    {
      type: 'button',
      class: 'button primary',
      onclick: async () => {
        status.textContent = (await copyText(value, input))
          ? 'Copied to the clipboard.'
          : 'Copy was refused by the browser: the value is selected, press Ctrl+C.';
      },
    },
    copyLabel,
  );
  return h(
    'section',
    { class: 'secret-panel', 'aria-labelledby': 'secret-title' },
    h('h2', { id: 'secret-title', tabindex: '-1' }, title),
    h(
      'p',
      { class: 'warning' },
      h('strong', {}, 'Copy this now. It is shown only once: '),
      'the console cannot show it again. Keep it in your secret manager, out of source control.',
    ),
    about,
    field(label, input),
    h('div', { class: 'actions' }, copy, h('button', { type: 'button', class: 'button', onclick: dismiss }, 'I have stored it, hide it'), status),
  );
}
