// An app's API keys: the list (never the keys themselves), create (the key shown once), revoke.
import { api, ApiProblem, pageOf, paths, query, session } from './api.js';
import { appTabs } from './nav.js';
import { badge, dataTable, dialog, field, formErrors, h, handleSubmit, Pager, panelForm, replaceKeepingFocus, shownOncePanel, time, when } from './ui.js';

export async function apiKeysView(ctx, appId) {
  const app = await ctx.app(appId);
  ctx.title(`API keys · ${app.name}`);
  ctx.appCrumbs(app, ['API keys']);
  const list = h('div', { class: 'results' });
  const secretSlot = h('div', { class: 'secret-slot' });
  const pager = new Pager(ctx.params);
  const load = async () => {
    const page = pageOf(await api('GET', paths.apiKeys(appId) + query({ limit: 20, cursor: pager.current })));
    pager.next = page.next_cursor;
    if (!ctx.current) return;
    ctx.setParams(pager.params);
    replaceKeepingFocus(
      list,
      page.data.length ? keysTable(page.data, revoke) : h('p', { class: 'empty' }, 'No API keys.'),
      pager.page > 1 || pager.next ? pager.controls('API keys', () => load().catch(ctx.fail)) : null,
    );
  };
  const revoke = async (key) => {
    const own = isSignedInWith(key);
    const done = await dialog({
      title: `Revoke API key “${key.name ?? key.prefix}”?`,
      body: [
        h('p', {}, 'Every request with the key ', h('code', {}, `${key.prefix}…`), ' is refused (401) within a second. This cannot be undone.'),
        own ? h('p', { class: 'warning' }, h('strong', {}, 'This is the key you are signed in with: '), 'the console signs you out.') : null,
      ],
      confirm: 'Revoke key',
      danger: true,
      focus: 'cancel',
      submit: () => api('DELETE', paths.apiKey(appId, key.id)),
    });
    if (!done) return document.querySelector(`[data-key="revoke:${CSS.escape(key.id)}"]`)?.focus();
    if (own) return ctx.fail(new ApiProblem(401, 'key_revoked', 'the key you were signed in with was revoked.'));
    ctx.notify(`API key ${key.name ?? key.prefix} revoked.`);
    await load();
    // The pressed button is gone with the key's row: focus the list's heading, not the page's top.
    document.getElementById('keys-title')?.focus();
  };
  await load();
  ctx.onLeave(() => secretSlot.replaceChildren()); // the new key never outlives the page
  ctx.render(
    h('h1', {}, 'API keys'),
    appTabs(appId, 'api-keys'),
    h(
      'p',
      { class: 'lead' },
      `Keys that reach ${app.name} only. A key is shown once, when it is created; the list shows its first characters to tell keys apart.`,
    ),
    secretSlot,
    h('section', { 'aria-labelledby': 'keys-title' }, h('h2', { id: 'keys-title', tabindex: '-1' }, 'Keys'), list),
    createKeyForm(ctx, appId, secretSlot, load),
  );
}

/** The session's own key, recognised by its prefix (the console never learns another key). */
function isSignedInWith(key) {
  const token = session.get()?.token ?? '';
  return Boolean(key.prefix) && token.startsWith(key.prefix) && !key.revoked_at;
}

function keysTable(keys, revoke) {
  return dataTable({
    caption: 'API keys, newest first',
    className: 'keys',
    columns: ['Name', 'Key starts with', 'Created', 'Last used', 'Status', 'Actions'],
    rows: keys.map((key) => ({
      attrs: { 'data-key-id': key.id },
      cells: [
        key.name ?? h('span', { class: 'muted' }, 'no name'),
        h('code', {}, `${key.prefix}…`),
        when(key.created_at),
        key.last_used_at ? time(key.last_used_at) : h('span', { class: 'muted' }, 'never'),
        key.revoked_at
          ? [badge('revoked'), ' ', when(key.revoked_at)]
          : [badge('active'), isSignedInWith(key) ? h('span', { class: 'muted' }, ' (this session)') : null],
        key.revoked_at
          ? h('span', { class: 'muted' }, '—')
          : h(
              'button',
              { type: 'button', class: 'button small danger-outline', 'data-key': `revoke:${key.id}`, onclick: () => revoke(key) },
              'Revoke',
              h('span', { class: 'visually-hidden' }, ` ${key.name ?? key.prefix}`),
            ),
      ],
    })),
  });
}

function createKeyForm(ctx, appId, secretSlot, reload) {
  const name = h('input', { type: 'text', name: 'name', maxlength: '100', autocomplete: 'off' });
  const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const errors = formErrors(error, { name });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Create API key');
  const form = panelForm(
    'create-key-title',
    'Create an API key',
    field('Name (optional)', name, 'Where the key will be used or who holds it, to tell keys apart later.'),
    error,
    submit,
  );
  handleSubmit(form, { button: submit, errors, fail: ctx.fail }, async () => {
    const created = await api('POST', paths.apiKeys(appId), name.value.trim() ? { name: name.value.trim() } : {});
    name.value = '';
    secretSlot.replaceChildren(
      shownOncePanel(
        {
          title: `New API key${created.name ? ` “${created.name}”` : ''}`,
          label: 'API key',
          value: created.api_key,
          copyLabel: 'Copy key',
          about: h('p', {}, 'Send it as ', h('code', {}, 'Authorization: Bearer <key>'), '. It reaches this app only.'),
        },
        () => secretSlot.replaceChildren(),
      ),
    );
    secretSlot.querySelector('h2')?.focus();
    await reload();
  });
  return form;
}
