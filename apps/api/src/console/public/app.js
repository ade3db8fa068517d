// The console's shell: session, router, and the sign-in, apps and app pages.
import { api, ApiProblem, pageOf, paths, query, session } from './api.js';
import { h, errorContent, fill, field, definitionList, isDialogOpen, Pager, replaceKeepingFocus, time } from './ui.js';
import { appTabs, hrefs } from './nav.js';
import { callsView } from './views-calls.js';
import { configView } from './views-config.js';
import { deliveriesView, deliveryView } from './views-deliveries.js';

const main = document.getElementById('main');
const crumbsNav = document.getElementById('breadcrumbs');
const noticeBox = document.getElementById('notice');
const alertBox = document.getElementById('alert');
const sessionBar = document.getElementById('session-bar');

const apps = new Map(); // app id -> app, so breadcrumbs need no extra call per page


const ID = '([0-9A-Za-z-]{1,64})';
const routes = [
  [/^#\/sign-in$/, signInView],
  [/^#\/apps$/, appsView],
  [new RegExp(`^#/apps/${ID}$`), appView],
  [new RegExp(`^#/apps/${ID}/scheduled-calls$`), callsView],
  [new RegExp(`^#/apps/${ID}/scheduled-calls/config$`), configView],
  [new RegExp(`^#/apps/${ID}/scheduled-calls/config/subscriptions/${ID}$`), deliveriesView],
  [new RegExp(`^#/apps/${ID}/scheduled-calls/config/subscriptions/${ID}/deliveries/${ID}$`), deliveryView],
];

let generation = 0;
let cleanups = [];
let pendingNotice = null;

function homeHref(current) {
  return current.kind === 'operator' ? hrefs.apps() : hrefs.app(current.appId);
}

/** What a page gets: where to render, its lifetime, and the shared chrome (title, breadcrumbs, messages). */
function createContext(mine) {
  const ctx = {
    get current() {
      return mine === generation;
    },
    session: session.get(),
    render(...children) {
      if (!ctx.current) return;
      fill(main, children);
    },
    title(text) {
      document.title = `${text} · Scheduled calls console`;
    },
    crumbs(items) {
      const list = h('ol', {}, items.map(([label, href], i) => h('li', {}, href && i < items.length - 1 ? h('a', { href }, label) : h('span', { 'aria-current': 'page' }, label))));
      crumbsNav.replaceChildren(list);
    },
    onLeave(fn) {
      cleanups.push(fn);
    },
    /** Re-runs `fn` every `ms` while this page is shown, skipped while the tab is hidden or a dialog is open. */
    every(ms, fn) {
      let timer;
      const tick = async () => {
        if (!ctx.current) return;
        if (!document.hidden && !isDialogOpen()) {
          try {
            await fn();
          } catch (error) {
            ctx.fail(error);
          }
        }
        if (ctx.current) timer = setTimeout(tick, ms);
      };
      timer = setTimeout(tick, ms);
      cleanups.push(() => clearTimeout(timer));
    },
    notify(text) {
      alertBox.replaceChildren();
      noticeBox.replaceChildren(h('p', {}, text));
    },
    fail(error) {
      if (error instanceof ApiProblem && error.status === 401) return signOut(`Signed out: ${error.message}`);
      showAlert(error);
    },
    clearMessages() {
      noticeBox.replaceChildren();
      alertBox.replaceChildren();
    },
    navigate(href, notice) {
      pendingNotice = notice ?? null;
      location.hash = href;
    },
    async app(appId) {
      if (!apps.has(appId)) apps.set(appId, await api('GET', paths.app(appId)));
      return apps.get(appId);
    },
    appCrumbs(app, ...more) {
      return ctx.crumbs([['Apps', hrefs.apps()], [app.name, hrefs.app(app.id)], ...more]);
    },
  };
  return ctx;
}

function showAlert(error) {
  const dismiss = h('button', { type: 'button', class: 'button small', onclick: () => alertBox.replaceChildren() }, 'Dismiss');
  fill(alertBox, h('div', { class: 'alert-body' }, h('strong', {}, error?.status ? `Error ${error.status}: ` : 'Error: '), errorContent(error), dismiss));
}

function renderSessionBar() {
  const current = session.get();
  if (!current) return sessionBar.replaceChildren();
  const who = current.kind === 'operator' ? 'Signed in as operator' : `Signed in with the API key of ${current.appName ?? 'one app'}`;
  sessionBar.replaceChildren(h('span', {}, who), h('button', { type: 'button', class: 'button small', onclick: () => signOut('Signed out.') }, 'Sign out'));
}

function signOut(message) {
  session.clear();
  apps.clear();
  pendingNotice = message;
  renderSessionBar();
  if (location.hash === '#/sign-in') route();
  else location.hash = '#/sign-in';
}

async function route() {
  for (const fn of cleanups) fn();
  cleanups = [];
  const mine = ++generation;
  const current = session.get();
  const hash = location.hash || '#/';
  if (!current && hash !== '#/sign-in') return location.replace('#/sign-in');
  if (current && (hash === '#/' || hash === '#' || hash === '#/sign-in')) return location.replace(homeHref(current));
  const ctx = createContext(mine);
  ctx.clearMessages();
  if (pendingNotice) ctx.notify(pendingNotice);
  pendingNotice = null;
  renderSessionBar();
  crumbsNav.replaceChildren();
  const match = routes.map(([pattern, view]) => [pattern.exec(hash), view]).find(([m]) => m);
  main.setAttribute('aria-busy', 'true');
  main.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  try {
    if (!match) throw new ApiProblem(404, 'not_found', 'There is no console page at this address.');
    await match[1](ctx, ...match[0].slice(1));
  } catch (error) {
    if (!ctx.current) return;
    if (error instanceof ApiProblem && error.status === 401) return signOut(`Signed out: ${error.message}`);
    ctx.title('Error');
    ctx.render(
      h('h1', { tabindex: '-1' }, error?.status === 404 ? 'Not found' : 'Something went wrong'),
      h('p', { class: 'form-error' }, errorContent(error)),
      h('p', {}, h('a', { href: current ? homeHref(current) : '#/sign-in' }, 'Back to the start')),
    );
  } finally {
    if (ctx.current) {
      main.removeAttribute('aria-busy');
      // Move focus to the new page's heading so screen readers announce it and Tab starts there.
      main.querySelector('h1')?.setAttribute('tabindex', '-1');
      main.querySelector('h1')?.focus();
    }
  }
}

// ---- pages ----

async function signInView(ctx) {
  ctx.title('Sign in');
  const key = h('input', { type: 'password', name: 'key', autocomplete: 'off', spellcheck: 'false', required: true });
  const appId = h('input', { type: 'text', name: 'app_id', autocomplete: 'off', spellcheck: 'false', inputmode: 'latin' });
  const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'panel narrow', novalidate: true, 'aria-labelledby': 'sign-in-title' },
    field('API key or operator token', key, 'An app API key (scw_ak_…) or the operator token. Kept in this tab’s session storage only, and forgotten when the tab closes.'),
    field('App ID (with an app API key)', appId, 'The id returned with the key when the app was created. Not needed with the operator token, which lists every app.'),
    error,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const token = key.value.trim();
    if (!token) {
      showFormError(error, 'Enter an API key or the operator token.', key);
      return;
    }
    submit.disabled = true;
    try {
      session.set(await identify(token, appId.value.trim()));
      apps.clear();
      location.hash = homeHref(session.get());
    } catch (err) {
      if (err instanceof ApiProblem && err.code === 'app_id_needed') showFormError(error, err.message, appId);
      else showFormError(error, err, key);
    } finally {
      submit.disabled = false;
    }
  });
  ctx.render(h('h1', {}, 'Sign in'), h('p', { class: 'lead' }, 'Manage the webhooks of your video apps: subscriptions, deliveries, retries and signing secrets.'), form);
}

function showFormError(container, error, focusField) {
  fill(container, errorContent(typeof error === 'string' ? { message: error } : error));
  container.hidden = false;
  focusField?.focus();
}

/**
 * Finds out what the key is through the public API alone: the operator token may list apps; an app
 * key is refused there with 403 and can then only read its own app, whose id the admin supplies.
 */
async function identify(token, appId) {
  try {
    await api('GET', paths.apps() + query({ limit: 1 }), undefined, { token });
    return { kind: 'operator', token };
  } catch (error) {
    if (!(error instanceof ApiProblem) || error.status !== 403) throw error;
  }
  if (!appId) throw new ApiProblem(400, 'app_id_needed', 'This is an app API key: enter its app ID as well.');
  try {
    const app = await api('GET', paths.app(appId), undefined, { token });
    return { kind: 'app', token, appId: app.id, appName: app.name };
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) throw new ApiProblem(404, 'not_found', `This API key does not belong to app “${appId}”. Check the app ID.`);
    throw error;
  }
}

async function appsView(ctx) {
  ctx.title('Apps');
  ctx.crumbs([['Apps']]);
  const results = h('div', { class: 'results' });
  const pager = new Pager();
  const load = async () => {
    let page;
    if (ctx.session.kind === 'operator') {
      page = pageOf(await api('GET', paths.apps() + query({ limit: 20, cursor: pager.current })));
    } else {
      page = { data: [await api('GET', paths.app(ctx.session.appId))], next_cursor: null };
    }
    pager.next = page.next_cursor;
    for (const app of page.data) apps.set(app.id, app);
    if (!ctx.current) return;
    const table = page.data.length
      ? h(
          'table',
          {},
          h('caption', { class: 'visually-hidden' }, 'Video apps'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'App ID'), h('th', { scope: 'col' }, 'No-show grace'), h('th', { scope: 'col' }, 'Created'))),
          h('tbody', {}, page.data.map((app) => h('tr', {}, h('th', { scope: 'row' }, h('a', { href: hrefs.app(app.id), 'data-key': `app:${app.id}` }, app.name)), h('td', {}, h('code', {}, app.id)), h('td', {}, `${app.no_show_grace_minutes} min`), h('td', {}, time(app.created_at))))),
        )
      : h('p', { class: 'empty' }, 'No apps yet. Create one with POST /v1/apps (operator token).');
    replaceKeepingFocus(results, table, pager.page > 1 || pager.next ? pager.controls('Apps', () => load().catch(ctx.fail)) : null);
  };
  await load();
  ctx.render(
    h('h1', {}, 'Apps'),
    h('p', { class: 'lead' }, ctx.session.kind === 'operator' ? 'Pick a video app to see its scheduled calls and webhook configuration.' : 'Your API key reaches this app only.'),
    results,
  );
}

async function appView(ctx, appId) {
  const app = await ctx.app(appId);
  ctx.title(app.name);
  ctx.appCrumbs(app);
  ctx.render(
    h('h1', {}, app.name),
    appTabs(appId, 'app'),
    definitionList([
      ['App ID', h('code', {}, app.id)],
      ['No-show grace', `${app.no_show_grace_minutes} minutes after the start`],
      ['Created', time(app.created_at)],
    ]),
    h(
      'ul',
      { class: 'cards' },
      h('li', { class: 'card' }, h('h2', {}, h('a', { href: hrefs.calls(appId) }, 'Scheduled calls')), h('p', {}, 'Recent calls with their status and timeline: what fired each webhook event.')),
      h('li', { class: 'card' }, h('h2', {}, h('a', { href: hrefs.config(appId) }, 'Config')), h('p', {}, 'Webhook subscriptions: add, pause and resume, rotate the signing secret, delivery log and retries.')),
    ),
  );
}


document.getElementById('skip-link').addEventListener('click', (event) => {
  // The address hash is the router's; jump to the content without changing it.
  event.preventDefault();
  (main.querySelector('h1') ?? main).focus();
});
window.addEventListener('hashchange', route);
route();
