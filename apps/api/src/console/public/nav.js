// Console addresses (the hash part only: the key never goes in a URL) and the app section tabs.
// A page's filters and list position ride in the hash's query (`#/apps/…?status=failed&cursor=…`).
import { h } from './ui.js';

export const hrefs = {
  apps: () => '#/apps',
  app: (appId) => `#/apps/${appId}`,
  apiKeys: (appId) => `#/apps/${appId}/api-keys`,
  calls: (appId) => `#/apps/${appId}/scheduled-calls`,
  call: (appId, callId) => `${hrefs.calls(appId)}/${callId}`,
  config: (appId) => `#/apps/${appId}/scheduled-calls/config`,
  subscription: (appId, subId) => `${hrefs.config(appId)}/subscriptions/${subId}`,
  delivery: (appId, subId, deliveryId) => `${hrefs.subscription(appId, subId)}/deliveries/${deliveryId}`,
};

/** `href` with a query of the non-empty `params`. */
export function withParams(href, params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `${href}?${text}` : href;
}

/** The current address split into its route path and its query. */
export function currentAddress() {
  const hash = location.hash || '#/';
  const at = hash.indexOf('?');
  return at < 0 ? { path: hash, params: new URLSearchParams() } : { path: hash.slice(0, at), params: new URLSearchParams(hash.slice(at + 1)) };
}

/**
 * Writes a page's filters into the address without a reload or a new history entry: Back from a
 * delivery then returns to the same list, and the address can be shared.
 */
export function replaceParams(params) {
  const next = withParams(currentAddress().path, params);
  if (next !== location.hash) history.replaceState(history.state, '', next);
}

/** Sections of one app; the current one is marked for assistive tech as well as visually. */
export function appTabs(appId, currentSection) {
  const items = [
    ['app', 'Overview', hrefs.app(appId)],
    ['calls', 'Scheduled calls', hrefs.calls(appId)],
    ['config', 'Config', hrefs.config(appId)],
    ['api-keys', 'API keys', hrefs.apiKeys(appId)],
  ];
  return h(
    'nav',
    { class: 'tabs', 'aria-label': 'App sections' },
    h(
      'ul',
      {},
      items.map(([id, label, href]) => h('li', {}, h('a', { href, 'aria-current': id === currentSection ? 'page' : null }, label))),
    ),
  );
}
