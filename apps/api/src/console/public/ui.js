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

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A <time> in the reader's locale, with the exact instant on hover and for assistive tech. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', {}, String(iso));
  return h('time', { datetime: date.toISOString(), title: date.toISOString() }, dateTime.format(date));
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

const PAUSE_REASONS = { manual: 'by an admin', auto: 'automatically after failing for days', gone: 'the receiver answered 410 Gone' };

/** A status in words; colour only repeats what the text says. */
export function badge(status, extra) {
  return h('span', { class: `badge badge-${String(status).replace(/[^a-z_]/g, '')}`, 'data-status': status }, STATUS_WORDS[status] ?? String(status), extra ? ` (${extra})` : null);
}

export function pausedReasonText(reason) {
  return PAUSE_REASONS[reason] ?? reason ?? '';
}

export function httpStatusText(code) {
  if (code === null || code === undefined) return 'no response';
  return String(code);
}

/** Shows an API error in words, with one line per faulty field. */
export function errorContent(error) {
  const message = error?.message || 'Something went wrong.';
  const fields = Array.isArray(error?.errors) ? error.errors : [];
  return [
    h('span', {}, message),
    fields.length ? h('ul', {}, fields.map((f) => h('li', {}, f.field ? `${f.field}: ${f.message}` : f.message))) : null,
  ];
}

export function showError(container, error) {
  fill(container, errorContent(error));
  container.hidden = false;
}

/**
 * A modal <dialog> (keyboard trapped and Esc to close, natively). `submit(form)` runs on confirm; if it
 * throws, the API's message is shown inside the dialog and it stays open. Resolves with submit's result,
 * or null when cancelled.
 */
export function dialog({ title, body = [], confirm, danger = false, submit, focus = 'first-field' }) {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
    const confirmButton = h('button', { type: 'submit', class: danger ? 'button danger' : 'button primary' }, confirm);
    const cancelButton = h('button', { type: 'button', class: 'button', onclick: () => finish(null) }, 'Cancel');
    const form = h('form', { class: 'dialog-form', novalidate: true }, h('h2', { id: titleId }, title), body, error, h('div', { class: 'actions' }, confirmButton, cancelButton));
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
      error.hidden = true;
      try {
        const value = await submit(form);
        finish(value ?? true);
      } catch (err) {
        showError(error, err);
        confirmButton.disabled = false;
      }
    });
    document.body.append(dlg);
    dlg.showModal();
    const target = focus === 'cancel' ? cancelButton : form.querySelector('input, select, textarea') ?? confirmButton;
    target.focus();
  });
}

export function isDialogOpen() {
  return document.querySelector('dialog[open]') !== null;
}

/**
 * Replaces `container`'s content and, when focus was inside it on an element with data-key, puts focus
 * back on the new element with the same key: an automatic refresh must not throw keyboard users out.
 */
export function replaceKeepingFocus(container, ...children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-key') : null;
  fill(container, children);
  if (key) container.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

/** Cursor pagination: a stack of the cursors that opened each page, so "Previous" works too. */
export class Pager {
  constructor() {
    this.reset();
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
      h('button', { type: 'button', class: 'button', disabled: this.page === 1, 'data-key': `${label}:prev`, onclick: () => { this.back(); reload(); } }, 'Previous page'),
      h('span', { class: 'muted' }, `Page ${this.page}`),
      h('button', { type: 'button', class: 'button', disabled: !this.next, 'data-key': `${label}:next`, onclick: () => { this.forward(); reload(); } }, 'Next page'),
    );
  }
}

/** A labelled form field; `input` is the control element. */
export function field(label, input, hint) {
  const id = input.id || uid('field');
  input.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

export function definitionList(entries) {
  return h('dl', { class: 'facts' }, entries.filter(Boolean).map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
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
