// The console's only way to the platform: the public REST API under /v1, with the key from the session.

const SESSION_KEY = 'scw-console-session';

/** The signed-in key lives in sessionStorage only: gone when the tab closes, never in a URL. */
export const session = {
  get() {
    try {
      const value = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
      return value && typeof value.token === 'string' ? value : null;
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
};

/** An error answered by the API (problem+json), or a network failure (status 0), in words. */
export class ApiProblem extends Error {
  constructor(status, code, message, errors = []) {
    super(message);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = code;
    this.errors = Array.isArray(errors) ? errors : [];
  }
}

/**
 * Calls the API and answers the parsed JSON body (null for an empty one). Any non-2xx answer throws an
 * ApiProblem carrying the API's own `message`, so the page can show the reason rather than a number.
 */
export async function api(method, path, body, { token } = {}) {
  const key = token ?? session.get()?.token;
  const headers = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiProblem(0, 'network_error', 'The API could not be reached. Check that the server is running and try again.');
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const message = (data && (data.message || data.detail)) || `The API answered ${response.status} ${response.statusText || ''}`.trim() + '.';
    throw new ApiProblem(response.status, (data && data.code) || `http_${response.status}`, message, data && data.errors);
  }
  return data;
}

/** Query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const paths = {
  apps: () => '/v1/apps',
  app: (appId) => `/v1/apps/${encodeURIComponent(appId)}`,
  apiKeys: (appId) => `${paths.app(appId)}/api-keys`,
  apiKey: (appId, keyId) => `${paths.apiKeys(appId)}/${encodeURIComponent(keyId)}`,
  calls: (appId) => `${paths.app(appId)}/scheduled-calls`,
  call: (appId, callId) => `${paths.calls(appId)}/${encodeURIComponent(callId)}`,
  callDeliveries: (appId, callId) => `${paths.call(appId, callId)}/deliveries`,
  subscriptions: (appId) => `${paths.app(appId)}/webhook-subscriptions`,
  subscription: (appId, subId) => `${paths.subscriptions(appId)}/${encodeURIComponent(subId)}`,
  deliveries: (appId, subId) => `${paths.subscription(appId, subId)}/deliveries`,
  stats: (appId, subId) => `${paths.subscription(appId, subId)}/stats`,
  delivery: (appId, deliveryId) => `${paths.app(appId)}/webhook-deliveries/${encodeURIComponent(deliveryId)}`,
};

/**
 * How many items a list filter matches, counted page by page (100 at a time) up to `cap`: answers
 * { count, more } where `more` says the count stopped at the cap.
 */
export async function countAll(path, params, cap = 1000) {
  let count = 0;
  let cursor;
  do {
    const page = pageOf(await api('GET', path + query({ ...params, limit: 100, cursor })));
    count += page.data.length;
    cursor = page.next_cursor;
  } while (cursor && count < cap);
  return { count, more: Boolean(cursor) };
}

/** The list endpoints answer { data, next_cursor }; tolerate a bare array too. */
export function pageOf(body) {
  if (Array.isArray(body)) return { data: body, next_cursor: null };
  return { data: Array.isArray(body?.data) ? body.data : [], next_cursor: body?.next_cursor ?? null };
}
