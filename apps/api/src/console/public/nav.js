// Console addresses (the hash part only: the key never goes in a URL) and the app section tabs.
import { h } from './ui.js';

export const hrefs = {
  apps: () => '#/apps',
  app: (appId) => `#/apps/${appId}`,
  calls: (appId) => `#/apps/${appId}/scheduled-calls`,
  config: (appId) => `#/apps/${appId}/scheduled-calls/config`,
  subscription: (appId, subId) => `${hrefs.config(appId)}/subscriptions/${subId}`,
  delivery: (appId, subId, deliveryId) => `${hrefs.subscription(appId, subId)}/deliveries/${deliveryId}`,
};

/** Sections of one app; the current one is marked for assistive tech as well as visually. */
export function appTabs(appId, currentSection) {
  const items = [
    ['app', 'Overview', hrefs.app(appId)],
    ['calls', 'Scheduled calls', hrefs.calls(appId)],
    ['config', 'Config', hrefs.config(appId)],
  ];
  return h('nav', { class: 'tabs', 'aria-label': 'App sections' }, h('ul', {}, items.map(([id, label, href]) => h('li', {}, h('a', { href, 'aria-current': id === currentSection ? 'page' : null }, label)))));
}
