// The console's shell: session, router, and the sign-in, apps and app pages.
import { api, ApiProblem, pageOf, paths, query, session } from './api.js';
import {
  h,
  errorContent,
  fill,
  field,
  fieldError,
  dataTable,
  definitionList,
  formErrors,
  isDialogOpen,
  Pager,
  refreshRelativeTimes,
  replaceKeepingFocus,
  when,
} from './ui.js';
import { appTabs, currentAddress, hrefs, replaceParams } from './nav.js';
import { apiKeysView } from './views-api-keys.js';
import { callsView, callView } from './views-calls.js';
import { configView } from './views-config.js';
import { deliveriesView, deliveryView } from './views-deliveries.js';

const main = document.getElementById('main');
const crumbsNav = document.getElementById('breadcrumbs');
const noticeBox = document.getElementById('notice');
const alertBox = document.getElementById('alert');
const sessionBar = document.getElementById('session-bar');

const apps = new Map(); // app id -> app, so breadcrumbs need no extra call per page

const ID = '([0-9A-Za-z-]{1,64})';
// Matched against the address without its query; the first match wins ("config" before a call id).
const routes = [
  [/^#\/sign-in$/, signInView],
  [/^#\/apps$/, appsView],
  [new RegExp(`^#/apps/${ID}$`), appView],
  [new RegExp(`^#/apps/${ID}/api-keys$`), apiKeysView],
  [new RegExp(`^#/apps/${ID}/scheduled-calls$`), callsView],
  [new RegExp(`^#/apps/${ID}/scheduled-calls/config$`), configView],
  [new RegExp(`^#/apps/${ID}/scheduled-calls/${ID}$`), callView],
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
function createContext(mine, params) {
  const ctx = {
    get current() {
      return mine === generation;
    },
    session: session.get(),
    /** The page's query from the address (filters, list position). */
    params,
    /** Writes the page's filters and position into the address (no reload, no history entry). */
    setParams(values) {
      if (ctx.current) replaceParams(values);
    },
    render(...children) {
      if (!ctx.current) return;
      fill(main, children);
    },
    title(text) {
      document.title = `${text} · Scheduled calls console`;
    },
    crumbs(items) {
      const list = h(
        'ol',
        {},
        items.map(([label, href], i) => h('li', {}, href && i < items.length - 1 ? h('a', { href }, label) : h('span', { 'aria-current': 'page' }, label))),
      );
      crumbsNav.replaceChildren(list);
    },
    onLeave(fn) {
      cleanups.push(fn);
    },
    /**
     * Re-runs `fn` every `ms` while this page is shown, skipped while the tab is hidden or a dialog is
     * open. A failure shows the alert once (not again at every tick); the next success takes it away.
     */
    every(ms, fn) {
      let timer;
      const tick = async () => {
        if (!ctx.current) return;
        if (!document.hidden && !isDialogOpen()) {
          try {
            await fn();
            if (ctx.current) clearPollingAlert();
          } catch (error) {
            if (ctx.current) ctx.fail(error, { polling: true });
          }
        }
        if (ctx.current) timer = setTimeout(tick, ms);
      };
      timer = setTimeout(tick, ms);
      cleanups.push(() => clearTimeout(timer));
    },
    notify(text) {
      clearAlert();
      noticeBox.replaceChildren(h('p', {}, text));
    },
    fail(error, { polling = false } = {}) {
      if (error instanceof ApiProblem && error.status === 401) return signOut(`Signed out: ${error.message}`);
      showAlert(error, polling);
    },
    clearMessages() {
      noticeBox.replaceChildren();
      clearAlert();
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

// The alert shown, and the one the reader dismissed: a role="alert" region is announced at every change,
// so the same error from the next automatic refresh must leave it untouched (and dismissed stays dismissed).
let alertShown = null; // { key, polling }
let alertDismissed = null;

const alertKey = (error) => `${error?.status ?? ''}|${error?.code ?? ''}|${error?.message ?? ''}`;

function showAlert(error, polling = false) {
  const key = alertKey(error);
  if (alertShown?.key === key || alertDismissed === key) return;
  alertShown = { key, polling };
  const dismiss = h(
    'button',
    {
      type: 'button',
      class: 'button small',
      onclick: () => {
        alertDismissed = key;
        clearAlert();
        // The button is gone: keep keyboard users on the page rather than at its top.
        (main.querySelector('h1') ?? main).focus();
      },
    },
    'Dismiss',
  );
  const offline = error?.status === 0;
  fill(
    alertBox,
    h(
      'div',
      { class: 'alert-body' },
      h('strong', {}, offline ? 'The API is unreachable: ' : error?.status ? `Error ${error.status}: ` : 'Error: '),
      errorContent(error),
      polling && offline ? h('span', {}, ' This page keeps trying every few seconds.') : null,
      dismiss,
    ),
  );
}

function clearAlert() {
  alertShown = null;
  alertBox.replaceChildren();
}

/** A refresh worked: the error it had shown is over (and a later one may be shown again). */
function clearPollingAlert() {
  alertDismissed = null;
  if (alertShown?.polling) clearAlert();
}

function renderSessionBar() {
  const current = session.get();
  if (!current) return sessionBar.replaceChildren();
  const who = current.kind === 'operator' ? 'Signed in as operator' : `Signed in with the API key of ${current.appName ?? 'one app'}`;
  sessionBar.replaceChildren(
    h('span', {}, who),
    h('button', { type: 'button', class: 'button small', onclick: () => signOut('Signed out.', { returnHere: false }) }, 'Sign out'),
  );
}

/** Forgets the key. When the API refused it (not a click on "Sign out"), sign-in returns to this page. */
function signOut(message, { returnHere = true } = {}) {
  session.clear();
  apps.clear();
  pendingNotice = message;
  renderSessionBar();
  const { path } = currentAddress();
  if (path === '#/sign-in') route();
  else location.hash = returnHere ? signInHref(location.hash) : '#/sign-in';
}

/** The sign-in page, remembering the page asked for so sign-in lands there. */
function signInHref(wanted) {
  return wanted && wanted.startsWith('#/apps') ? `#/sign-in?next=${encodeURIComponent(wanted)}` : '#/sign-in';
}

async function route() {
  for (const fn of cleanups) fn();
  cleanups = [];
  const mine = ++generation;
  const current = session.get();
  const { path: hash, params } = currentAddress();
  if (!current && hash !== '#/sign-in') return location.replace(signInHref(location.hash));
  if (current && (hash === '#/' || hash === '#' || hash === '#/sign-in'))
    return location.replace(params.get('next')?.startsWith('#/apps') ? params.get('next') : homeHref(current));
  const ctx = createContext(mine, params);
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
    // The page's own alert says it all; an alert from before would only repeat it.
    clearAlert();
    ctx.render(
      h('h1', { tabindex: '-1' }, error?.status === 404 ? 'Not found' : error?.status === 0 ? 'The API could not be reached' : 'Something went wrong'),
      h('p', { class: 'form-error' }, errorContent(error)),
      h(
        'div',
        { class: 'actions' },
        error?.status === 404 ? null : h('button', { type: 'button', class: 'button primary', onclick: () => route() }, 'Retry'),
        h('a', { class: 'button', href: current ? homeHref(current) : '#/sign-in' }, 'Back to the start'),
      ),
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
  const errors = formErrors(error, { key, app_id: appId });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'panel narrow', novalidate: true, 'aria-labelledby': 'sign-in-title' },
    field(
      'API key or operator token',
      key,
      'An app API key (scw_ak_…) or the operator token. Kept in this tab’s session storage only, and forgotten when the tab closes.',
    ),
    field(
      'App ID (with an app API key)',
      appId,
      'The id returned with the key when the app was created. Not needed with the operator token, which lists every app.',
    ),
    error,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors.clear();
    const token = key.value.trim();
    if (!token) {
      errors.show(fieldError('key', 'Enter an API key or the operator token.'));
      return;
    }
    submit.disabled = true;
    try {
      session.set(await identify(token, appId.value.trim()));
      apps.clear();
      const next = ctx.params.get('next');
      location.hash = next && next.startsWith('#/apps') ? next : homeHref(session.get());
    } catch (err) {
      const aboutAppId = err instanceof ApiProblem && (err.code === 'app_id_needed' || err.status === 404);
      errors.show(fieldError(aboutAppId ? 'app_id' : 'key', err.message));
    } finally {
      submit.disabled = false;
    }
  });
  ctx.render(
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h('p', { class: 'lead' }, 'Manage the webhooks of your video apps: subscriptions, deliveries, retries and signing secrets.'),
    form,
  );
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
    if (error instanceof ApiProblem && error.status === 404)
      throw new ApiProblem(404, 'not_found', `This API key does not belong to app “${appId}”. Check the app ID.`);
    throw error;
  }
}

async function appsView(ctx) {
  ctx.title('Apps');
  ctx.crumbs([['Apps']]);
  const results = h('div', { class: 'results' });
  const pager = new Pager(ctx.params);
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
    ctx.setParams(pager.params);
    const table = page.data.length
      ? dataTable({
          caption: 'Video apps',
          columns: ['Name', 'App ID', 'No-show grace', 'Created'],
          rows: page.data.map((app) => ({
            cells: [
              h('a', { href: hrefs.app(app.id), 'data-key': `app:${app.id}` }, app.name),
              h('code', {}, app.id),
              `${app.no_show_grace_minutes} min`,
              when(app.created_at),
            ],
          })),
        })
      : h('p', { class: 'empty' }, 'No apps yet. Create one with POST /v1/apps (operator token).');
    replaceKeepingFocus(results, table, pager.page > 1 || pager.next ? pager.controls('Apps', () => load().catch(ctx.fail)) : null);
  };
  await load();
  ctx.render(
    h('h1', {}, 'Apps'),
    h(
      'p',
      { class: 'lead' },
      ctx.session.kind === 'operator' ? 'Pick a video app to see its scheduled calls and webhook configuration.' : 'Your API key reaches this app only.',
    ),
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
      ['Created', when(app.created_at)],
    ]),
    h(
      'ul',
      { class: 'cards' },
      h(
        'li',
        { class: 'card' },
        h('h2', {}, h('a', { href: hrefs.calls(appId) }, 'Scheduled calls')),
        h('p', {}, 'Recent calls with their status and timeline: what fired each webhook event.'),
      ),
      h(
        'li',
        { class: 'card' },
        h('h2', {}, h('a', { href: hrefs.config(appId) }, 'Config')),
        h('p', {}, 'Webhook subscriptions: add, pause and resume, rotate the signing secret, delivery log and retries.'),
      ),
      h(
        'li',
        { class: 'card' },
        h('h2', {}, h('a', { href: hrefs.apiKeys(appId) }, 'API keys')),
        h('p', {}, 'The keys that reach this app: create one (shown once), see when each was last used, revoke.'),
      ),
    ),
  );
}

document.getElementById('skip-link').addEventListener('click', (event) => {
  // The address hash is the router's; jump to the content without changing it.
  event.preventDefault();
  (main.querySelector('h1') ?? main).focus();
});
window.addEventListener('hashchange', route);
// "3 min ago" stays true while a page is open (text only: nothing is re-announced).
setInterval(() => refreshRelativeTimes(main), 15_000);
route();
