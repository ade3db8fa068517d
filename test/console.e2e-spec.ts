import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { checkScreen, docsScreenshot, launchChromium } from './support/console-browser';
import { bearer, createBooking, createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { OPERATOR_TOKEN } from './support/test-env';
import { TestReceiver } from './support/test-receiver';
import { startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';

// Functions passed to page.evaluate run in the browser; this Node project has no DOM types, so name the globals they use.
declare const document: any, sessionStorage: any, localStorage: any, window: any, location: any, navigator: any, getComputedStyle: any, MutationObserver: any;

const ARTIFACTS = join(__dirname, '..', 'test-artifacts', 'console');
// Three quick attempts, so a failing receiver fails a delivery (and makes its subscription failing) in under a second.
// Three connection failures open a circuit, for ten minutes: long enough to read it on the page.
const WEBHOOK_ENV = {
  WEBHOOK_RETRY_SCHEDULE: '0s,200ms,200ms',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_FAILING_AFTER: '3',
  WEBHOOK_CIRCUIT_FAILURES: '3',
  WEBHOOK_CIRCUIT_COOLDOWN: '10m',
};

jest.setTimeout(60_000);

/**
 * The web console in a real Chromium against the real stack: the API (which serves the console), an
 * in-process delivery worker, and a loopback receiver whose answer the test switches between 200 and 500.
 */
describe('Web console', () => {
  let api: TestApi;
  let worker: TestWorker;
  let receiver: TestReceiver;
  let app: TestVideoApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let hookUrl: string;
  let firstSecret: string;
  let subId: string;
  const pageProblems: string[] = [];
  // While a test cuts the browser off the API on purpose, its failed requests are expected console noise.
  let apiCutOff = false;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    api = await startTestApi(WEBHOOK_ENV);
    worker = await startTestWorker(api, WEBHOOK_ENV);
    receiver = await new TestReceiver().start();
    hookUrl = `${receiver.url}/hooks`;
    app = await createVideoApp(api, { name: 'Acme Video', no_show_grace_minutes: 10 });
    const address = api.app.getHttpServer().address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'UTC' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // A script error or a CSP violation in the page fails the run (checked in the last test).
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 4\d\d/.test(message.text()) && !(apiCutOff && /net::ERR_/.test(message.text())))
        pageProblems.push(`console error: ${message.text()}`);
    });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await worker?.close();
    await receiver?.stop();
    await api?.close();
  });

  // The API runs on a test clock that stands still: move it a second per booking so each event (and its
  // deliveries) has its own creation time, and "last delivery" and "newest first" mean something.
  const book = () => {
    api.clock.advance(1_000);
    return createBooking(api, app);
  };
  /** The screen passes axe with no violation and is no wider than the window; then its screenshot. */
  const screen = async (name: string, on: Page = page) => {
    await checkScreen(on, name);
    await on.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  };
  const heading = (name: string | RegExp, on: Page = page) => on.getByRole('heading', { level: 1, name }).waitFor();
  const tabs = (on: Page = page) => on.getByRole('navigation', { name: 'App sections' });
  const crumb = (name: string) => page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name }).click();
  const focused = (on: Page = page) =>
    on.evaluate(() => ({ tag: document.activeElement?.tagName, id: document.activeElement?.id, text: document.activeElement?.textContent ?? '' }));
  const card = (url = hookUrl): Locator => page.locator('article.subscription', { has: page.getByRole('heading', { name: url, exact: true }) });
  const badgeOf = (sub: Locator, status: string) => sub.locator('.card-head .badge', { hasText: status }).waitFor();
  const deliveryRow = (event: string, status: string) => page.locator(`tr[data-status="${status}"]`, { has: page.locator('code', { hasText: event }) });

  it('serves the console without credentials, under a strict Content-Security-Policy', async () => {
    const html = await api.http.get('/console').expect(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    const csp = html.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(html.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const js = await api.http.get('/console/app.js').expect(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    await api.http.get('/console/app.js').set('if-none-match', js.headers.etag).expect(304);
    await api.http.get('/console/missing.js').expect(404);
    await api.http.get('/console/..%2Fconsole.module.ts').expect(404);
  });

  it('signs in with an app API key and its app ID, keeping the key in session storage only', async () => {
    await page.goto(`${base}/console`);
    await heading('Sign in');
    await screen('01-sign-in');
    await page.getByLabel('API key or operator token').fill(app.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The message sits beside the field it is about, tied to it, and focus goes there.
    const appIdField = page.getByLabel('App ID (with an app API key)');
    await page.locator('.field-error', { hasText: 'enter its app ID as well' }).waitFor();
    expect(await appIdField.getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.getElementById(document.activeElement.getAttribute('aria-describedby').split(' ')[0]).textContent)).toContain(
      'enter its app ID as well',
    );
    await screen('01-sign-in-error');
    await appIdField.fill(app.id);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Acme Video');
    await page.getByText('Signed in with the API key of Acme Video').waitFor();
    expect(page.url()).not.toContain(app.apiKey);
    const storage = await page.evaluate(() => ({ session: JSON.stringify(sessionStorage), local: localStorage.length, cookies: document.cookie }));
    expect(storage.session).toContain(app.apiKey);
    expect(storage.local).toBe(0);
    expect(storage.cookies).toBe('');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading('Sign in');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('shows a refused key in words', async () => {
    await page.getByLabel('API key or operator token').fill('scw_ak_not-a-real-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.field-error', { hasText: 'The API key or token is not valid.' }).waitFor();
    expect((await focused()).tag).toBe('INPUT');
  });

  it('signs in with the operator token from the keyboard and walks Apps → app → Scheduled calls → Config', async () => {
    const key = page.getByLabel('API key or operator token');
    await key.fill('');
    await key.focus();
    await page.keyboard.type(OPERATOR_TOKEN);
    await page.keyboard.press('Enter');
    await heading('Apps');
    await screen('02-apps');
    await page.getByRole('link', { name: 'Acme Video' }).click();
    await heading('Acme Video');
    await screen('03-app');
    await tabs().getByRole('link', { name: 'Scheduled calls' }).click();
    await heading('Scheduled calls');
    await page.getByText('No scheduled calls yet.').waitFor();
    await tabs().getByRole('link', { name: 'Config' }).click();
    await heading('Config');
    const crumbs = await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('listitem').allInnerTexts();
    expect(crumbs.map((text) => text.replace(/^›\s*/, '').trim())).toEqual(['Apps', 'Acme Video', 'Scheduled calls', 'Config']);
    await page.getByText('No subscriptions yet.').waitFor();
    await screen('03-config-empty');
  });

  it('refuses a bad subscription URL with the API’s reason, once, beside the field, and focuses the field', async () => {
    const url = page.getByLabel('Endpoint URL');
    await url.fill('ftp://example.com/hooks');
    await page.getByRole('button', { name: 'Add subscription' }).click();
    await page.locator('input[name="url"][aria-invalid="true"]').waitFor();
    const errorId = `${await url.getAttribute('id')}-error`;
    const message = (await page.locator(`#${errorId}`).innerText()).trim();
    expect(message.length).toBeGreaterThan(10);
    expect(message).not.toMatch(/^\s*\d{3}\s*$/);
    expect((await url.getAttribute('aria-describedby'))!.split(' ')).toContain(errorId);
    expect((await focused()).id).toBe(await url.getAttribute('id'));
    // Printed once: not again in a summary or an alert.
    expect(await page.evaluate((text) => document.body.innerText.split(text).length - 1, message)).toBe(1);
    await screen('03-config-url-refused');
  });

  it('adds a subscription to the loopback receiver and shows its secret once, with a copy button', async () => {
    await page.getByLabel('Endpoint URL').fill(hookUrl);
    await page.getByLabel('Description (optional)').fill('Bookings to our CRM');
    await page.getByLabel('Rate limit (optional)').fill('50');
    await page.getByRole('checkbox', { name: /All events/ }).uncheck();
    for (const event of ['scheduled.created', 'scheduled.cancelled', 'scheduled.rescheduled', 'scheduled.confirmed']) {
      await page.getByRole('checkbox', { name: event }).check();
    }
    await page.getByRole('checkbox', { name: /All events/ }).check();
    await page.getByRole('button', { name: 'Add subscription' }).click();
    const panel = page.getByRole('region', { name: /signing secret/i });
    await panel.getByText('It is shown only once').waitFor();
    firstSecret = await panel.getByLabel('Signing secret').inputValue();
    expect(await shows(page, firstSecret)).toBe(true);
    expect(firstSecret.length).toBeGreaterThanOrEqual(24);
    await panel.getByRole('button', { name: 'Copy secret' }).click();
    await panel
      .getByRole('status')
      .filter({ hasText: /Copied|selected/ })
      .waitFor();
    await badgeOf(card(), 'active');
    expect(await page.locator('input[name="url"]').getAttribute('aria-invalid')).toBeNull();
    await card().getByText('50 deliveries per second at most').waitFor();
    subId = (await card().getAttribute('data-subscription-id'))!;
    await screen('04-config-new-secret');
    await panel.getByRole('button', { name: /I have stored it/ }).click();
    await panel.waitFor({ state: 'detached' });
    expect(await shows(page, firstSecret)).toBe(false);
  });

  it('shows the delivery of a booking created through the API', async () => {
    await book();
    const sub = card();
    await sub.locator('.last-delivery', { hasText: 'scheduled.created' }).filter({ hasText: 'succeeded' }).filter({ hasText: 'HTTP 200' }).waitFor();
    // The secret the console showed is the one deliveries are signed with.
    const delivered = receiver.requests[0];
    expect(delivered.headers['x-apifycloud-signature']).toBe(`sha256=${createHmac('sha256', firstSecret).update(delivered.rawBody).digest('hex')}`);
    await sub.getByRole('link', { name: /^Deliveries/ }).click();
    await heading('Deliveries');
    const row = deliveryRow('scheduled.created', 'succeeded');
    await row.waitFor();
    // Rows tell deliveries apart: the event id (and, with the API's per-delivery booking, the booking).
    await row.locator('code.event-id', { hasText: delivered.json.id }).waitFor();
    await screen('05-delivery-log');
  });

  it('shows failing when the receiver fails, and a manual retry that lands and succeeds', async () => {
    const booking = await book();
    await waitFor('the booking delivered', () => receiver.requests.some((r) => r.json?.payload?.scheduled_call?.id === booking.id));
    receiver.answer(500, 'receiver is down for maintenance');
    api.clock.advance(1_000);
    await api.http.post(`/v1/apps/${app.id}/scheduled-calls/${booking.id}/cancel`).set(app.auth).send({ reason: 'guest is ill' }).expect(200);
    await crumb('Config');
    await heading('Config');
    await badgeOf(card(), 'failing');
    await card().locator('.last-delivery', { hasText: 'scheduled.cancelled' }).filter({ hasText: 'HTTP 500' }).waitFor();
    // Health in words: the failure streak, since when, and when it will be paused automatically.
    const health = card().locator('.health');
    await health.getByText(/3 failed attempts in a row, failing since/).waitFor();
    await health.getByText(/Will be paused automatically on .* unless a delivery succeeds before\./).waitFor();
    await screen('06-config-failing');

    await card()
      .getByRole('link', { name: /^Deliveries/ })
      .click();
    await heading('Deliveries');
    await page.getByLabel('Status').selectOption('failed');
    await page.waitForFunction(() => location.hash.includes('status=failed'));
    await deliveryRow('scheduled.cancelled', 'failed').getByRole('link').first().click();
    await heading(/Delivery of/);
    await page.locator('article.attempt[data-attempt="3"][data-trigger="automatic"]').waitFor();
    expect(await page.locator('article.attempt').count()).toBe(3);
    // The last attempt's request and response are open; the response body is the receiver's.
    await page.locator('article.attempt[data-attempt="3"] .response pre', { hasText: 'receiver is down for maintenance' }).waitFor();
    await screen('07-delivery-failed');

    // Back from a delivery returns to the log as it was filtered.
    await page.goBack();
    await heading('Deliveries');
    expect(await page.getByLabel('Status').inputValue()).toBe('failed');
    await deliveryRow('scheduled.cancelled', 'failed').getByRole('link').first().click();
    await heading(/Delivery of/);

    receiver.answer(200, 'thanks');
    await page.getByRole('button', { name: 'Retry now' }).click();
    const manual = page.locator('article.attempt[data-attempt="4"][data-trigger="manual"]');
    await manual.filter({ hasText: 'HTTP 200' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Attempt 4 landed: HTTP 200' }).waitFor();
    await page.locator('.facts .badge', { hasText: 'succeeded' }).waitFor();
    await screen('07-delivery-retried');

    await crumb('Config');
    await badgeOf(card(), 'active');
  });

  it('recovers the failed deliveries since a given time', async () => {
    receiver.answer(503, 'still warming up');
    const booking = await book();
    await badgeOf(card(), 'failing');
    await card()
      .getByRole('link', { name: /^Deliveries/ })
      .click();
    await heading('Deliveries');
    await deliveryRow('scheduled.created', 'failed').waitFor();
    receiver.answer(200, 'ok');
    // It says how many it would re-send and asks first; cancelling sends nothing.
    const requestsBefore = receiver.requests.length;
    await page.getByRole('button', { name: 'Recover failed deliveries' }).click();
    const confirm = page.getByRole('dialog', { name: 'Re-send 1 failed delivery?' });
    await confirm.locator('.recover-count', { hasText: '1 failed delivery' }).waitFor();
    await checkScreen(page, 'recover-confirm');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.requests.length).toBe(requestsBefore);
    await deliveryRow('scheduled.created', 'failed').waitFor();
    await page.getByRole('button', { name: 'Recover failed deliveries' }).click();
    await confirm.getByRole('button', { name: 'Re-send 1 failed delivery' }).click();
    await page.getByRole('status').filter({ hasText: 'Re-sent 1 failed delivery' }).waitFor();
    await waitFor('the recovered delivery at the receiver', () =>
      receiver.requests.some((r) => r.json?.payload?.scheduled_call?.id === booking.id && r.headers['x-apifycloud-signature'] && r.json.attempt === 4),
    );
    await page.locator('.card-head .badge', { hasText: 'active' }).waitFor();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No deliveries with this status.').waitFor();
    await page.getByLabel('Status').selectOption('');
  });

  it('pauses from the keyboard, holds new events (no retry offered), and resumes sending the held ones', async () => {
    await crumb('Config');
    await heading('Config');
    await card()
      .getByRole('button', { name: /^Pause/ })
      .focus();
    await page.keyboard.press('Enter');
    await badgeOf(card(), 'paused (manual)');
    await card().getByText('Paused by an admin').waitFor();
    // Focus survives the automatic refresh: it moves to the button that replaced the one pressed.
    await page.waitForFunction(() => document.activeElement?.textContent?.startsWith('Resume'));

    const received = receiver.requests.length;
    const booking = await book();
    await card()
      .getByRole('link', { name: /^Deliveries/ })
      .click();
    await heading('Deliveries');
    await deliveryRow('scheduled.created', 'held').waitFor();
    expect(receiver.requests.length).toBe(received);
    // Never attempted: it says so, rather than "HTTP no response · 0 attempts".
    const last = page.locator('.last-delivery');
    await last.getByText('not sent: held while paused').waitFor();
    expect(await last.innerText()).not.toContain('no response');
    await screen('08-paused-held');

    // A held delivery cannot be retried (the API answers 409): the button is off, and says why.
    await deliveryRow('scheduled.created', 'held').getByRole('link').first().click();
    await heading(/Delivery of/);
    const retry = page.getByRole('button', { name: 'Retry now' });
    expect(await retry.isDisabled()).toBe(true);
    await page.getByText('Held while the subscription is paused: resume it to send this delivery.').waitFor();
    await checkScreen(page, 'delivery-held');
    await page.goBack();
    await heading('Deliveries');

    await page.getByRole('button', { name: /^Resume/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Resume subscription' });
    await dialog.getByText('1 delivery was held while it was paused.').waitFor();
    await checkScreen(page, 'resume-dialog');
    await expectChecked(dialog.getByRole('checkbox', { name: /send the 1 held delivery/ }));
    await dialog.getByRole('button', { name: 'Resume' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('.card-head .badge', { hasText: 'active' }).waitFor();
    await waitFor('the held delivery at the receiver', () => receiver.requests.some((r) => r.json?.payload?.scheduled_call?.id === booking.id));
    await page.getByLabel('Status').selectOption('held');
    await page.getByText('No deliveries with this status.').waitFor();
  });

  it('rotates the secret with a grace period and shows the new one once', async () => {
    await crumb('Config');
    await heading('Config');
    await card()
      .getByRole('button', { name: /^Rotate secret/ })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Rotate signing secret' });
    await dialog.getByLabel('Grace period for the old secret').selectOption('3600');
    await dialog.getByRole('button', { name: 'Rotate secret' }).click();
    const panel = page.getByRole('region', { name: 'New signing secret' });
    await panel.getByText('It is shown only once').waitFor();
    await panel.getByText('for 1 hour').waitFor();
    const secret = await panel.getByLabel('Signing secret').inputValue();
    expect(secret).not.toBe(firstSecret);
    await panel.getByRole('button', { name: 'Copy secret' }).click();
    await panel
      .getByRole('status')
      .filter({ hasText: /Copied|selected/ })
      .waitFor();
    await card().getByText('Still signs too until').waitFor();
    await screen('09-rotated-secret');

    // Deliveries are now signed with the secret shown, and with the old one during the grace period.
    const booking = await book();
    const delivered = await waitFor('a delivery signed after the rotation', () =>
      receiver.requests.find((r) => r.json?.payload?.scheduled_call?.id === booking.id),
    );
    const sign = (key: string) => `sha256=${createHmac('sha256', key).update(delivered.rawBody).digest('hex')}`;
    expect(delivered.headers['x-apifycloud-signature']).toBe(sign(secret));
    expect(delivered.headers['x-apifycloud-signature-previous']).toBe(sign(firstSecret));

    await panel.getByRole('button', { name: /I have stored it/ }).click();
    await panel.waitFor({ state: 'detached' });
    await page.reload();
    await heading('Config');
    await badgeOf(card(), 'active');
    expect(await shows(page, secret)).toBe(false);
  });

  it('edits a subscription sending only what changed, and deletes another after confirmation', async () => {
    await card().getByRole('button', { name: /^Edit/ }).click();
    const edit = page.getByRole('dialog', { name: 'Edit subscription' });
    await edit.getByLabel('Description (optional)').fill('Bookings to our CRM (production)');
    await checkScreen(page, 'edit-dialog');
    // Only the description: repeating the URL would fail once the URL no longer passes the checks.
    const patch = page.waitForRequest((request) => request.method() === 'PATCH');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    expect((await patch).postDataJSON()).toEqual({ description: 'Bookings to our CRM (production)' });
    await edit.waitFor({ state: 'detached' });
    await card().getByText('Bookings to our CRM (production)').waitFor();
    // A rate limit cleared is sent as null (no limit).
    await card().getByRole('button', { name: /^Edit/ }).click();
    await edit.getByLabel('Rate limit (optional)').fill('');
    const clearLimit = page.waitForRequest((request) => request.method() === 'PATCH');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    expect((await clearLimit).postDataJSON()).toEqual({ rate_limit_per_second: null });
    await edit.waitFor({ state: 'detached' });
    await card()
      .locator('dd', { hasText: /^None$/ })
      .waitFor();

    const other = `${receiver.url}/cancellations`;
    await page.getByLabel('Endpoint URL').fill(other);
    await page.getByRole('checkbox', { name: /All events/ }).uncheck();
    for (const event of ['scheduled.created', 'scheduled.confirmed', 'scheduled.rescheduled', 'scheduled.no_show']) {
      await page.getByRole('checkbox', { name: event }).uncheck();
    }
    await page.getByRole('button', { name: 'Add subscription' }).click();
    await page
      .getByRole('region', { name: /signing secret/i })
      .getByRole('button', { name: /I have stored it/ })
      .click();
    await card(other).getByText('scheduled.cancelled').waitFor();

    await card(other)
      .getByRole('button', { name: /^Delete/ })
      .click();
    const confirm = page.getByRole('dialog', { name: 'Delete subscription?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    await card(other).waitFor();
    await card(other)
      .getByRole('button', { name: /^Delete/ })
      .click();
    await confirm.getByRole('button', { name: 'Delete subscription' }).click();
    await card(other).waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: 'deleted' }).waitFor();
    // Its card went with the button pressed: focus is on the list's heading, not lost to the page.
    expect(await focused()).toMatchObject({ id: 'subscriptions-title' });
    const left = await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions`).set(app.auth).expect(200);
    expect(left.body.data.map((s: { url: string }) => s.url)).toEqual([hookUrl]);
    await page.reload();
    await heading('Config');
    await badgeOf(card(), 'active');
    await screen('10-config');
    docsScreenshot(join(ARTIFACTS, '10-config.png'), 'console-config.png');
  });

  it('lists the scheduled calls with their status and the events in their timeline', async () => {
    await tabs().getByRole('link', { name: 'Scheduled calls' }).click();
    await heading('Scheduled calls');
    const cancelled = page.locator('tbody tr', { has: page.locator('.badge', { hasText: 'cancelled' }) });
    await cancelled.waitFor();
    await cancelled.getByText(/^Timeline/).click();
    await cancelled.getByText('Cancelled: “guest is ill”').waitFor();
    await cancelled.locator('code', { hasText: 'scheduled.cancelled' }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(5);
    await screen('11-scheduled-calls');
    await page.getByLabel('Status').selectOption('cancelled');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
    await page.getByLabel('Status').selectOption('');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 5);
  });

  it('shows a booking’s start in the booking’s own zone with the reader’s local time beside it, in two browser zones', async () => {
    // 09:00 in Tokyo is 00:00 UTC and 19:00 the day before in New York.
    const start = new Date(api.clock.now().getTime() + 2 * 86_400_000);
    start.setUTCHours(0, 0, 0, 0);
    api.clock.advance(1_000);
    const booking = await createBooking(api, app, {
      scheduled_at: start.toISOString(),
      timezone: 'Asia/Tokyo',
      guest: { name: 'Tomo Tanaka', email: 'tomo@example.com' },
    });
    const hhmm = (timeZone: string) => new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(start);
    for (const timezoneId of ['UTC', 'America/New_York']) {
      const zoned = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId });
      try {
        const other = await zoned.newPage();
        await signIn(other, `#/apps/${app.id}/scheduled-calls`);
        await heading('Scheduled calls', other);
        const row = other.locator(`tr[data-call-id="${booking.id}"]`);
        const own = await row.locator('.booking-zone').innerText();
        expect(own).toContain(`${hhmm('Asia/Tokyo')}:00`);
        expect(own).toContain('(Asia/Tokyo)');
        const local = await row.locator('.local-time').innerText();
        expect(local).toContain(`your time: `);
        expect(local).toContain(`${hhmm(timezoneId)}:00`);
        expect(local).toMatch(timezoneId === 'UTC' ? /UTC/ : /GMT-5|EST/);
        // Instants without a zone of their own: relative, with the exact time and zone on hover and on focus.
        await other.locator(`tr[data-call-id="${booking.id}"] summary`).click();
        await row.locator('li time').first().waitFor();
        await checkScreen(other, `calls-${timezoneId}`);
      } finally {
        await zoned.close();
      }
    }
  });

  it('shows recent instants as “… ago”, with the exact time and its zone on hover and on keyboard focus', async () => {
    await tabs().getByRole('link', { name: 'Config' }).click();
    await heading('Config');
    const recent = card().locator('.last-delivery time.rel');
    await recent.waitFor();
    expect(await recent.innerText()).toMatch(/ago|now|sec|min/);
    const exact = await recent.getAttribute('title');
    expect(exact).toMatch(/UTC/);
    expect(await recent.getAttribute('data-exact')).toBe(exact);
    expect(await recent.getAttribute('tabindex')).toBe('0');
    expect(new Date((await recent.getAttribute('datetime'))!).getTime()).not.toBeNaN();
    await recent.focus();
    expect(await recent.evaluate((el) => getComputedStyle(el, '::after').content)).toBe(JSON.stringify(exact));
  });

  it('says a subscription was paused because the receiver answered 410 Gone, in a sentence', async () => {
    receiver.answer(410, 'gone for good');
    await book();
    await badgeOf(card(), 'paused (gone)');
    await card().getByText('Paused because the receiver answered 410 Gone. New events are held until it is resumed').waitFor();
    await checkScreen(page, 'config-gone');
    receiver.answer(200, 'ok');
    await card()
      .getByRole('button', { name: /^Resume/ })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Resume subscription' });
    await dialog.getByRole('button', { name: 'Resume' }).click();
    await dialog.waitFor({ state: 'detached' });
    await badgeOf(card(), 'active');
  });

  it('shows an open circuit breaker and when its next probe goes', async () => {
    await heading('Config');
    const dead = 'http://127.0.0.1:9/nobody-listens';
    const created = await api.http
      .post(`/v1/apps/${app.id}/webhook-subscriptions`)
      .set(app.auth)
      .send({ url: dead, events: ['scheduled.created'] })
      .expect(201);
    try {
      await book();
      const circuit = card(dead).locator('.health .circuit', { hasText: 'Circuit open: nothing is sent until the next probe' });
      await circuit.waitFor();
      await circuit.locator('time').first().waitFor();
      await card(dead)
        .locator('.health', { hasText: /3 failed attempts in a row/ })
        .waitFor();
      await checkScreen(page, 'config-circuit-open');
    } finally {
      await api.http.delete(`/v1/apps/${app.id}/webhook-subscriptions/${created.body.id}`).set(app.auth).expect(204);
    }
  });

  it('when the API is down: one alert that is not redrawn, a Dismiss that sticks, and a Retry on pages that could not load', async () => {
    await heading('Config');
    apiCutOff = true;
    try {
      await page.route('**/v1/**', (route) => route.abort('connectionrefused'));
      const alert = page.locator('#alert');
      await alert.getByText('The API is unreachable').waitFor();
      await page.evaluate(() => {
        window.alertChanges = 0;
        new MutationObserver((records: unknown[]) => (window.alertChanges += records.length)).observe(document.getElementById('alert'), {
          childList: true,
          subtree: true,
          characterData: true,
          attributes: true,
        });
      });
      await page.waitForTimeout(4_500); // two more automatic refreshes, both failing
      expect(await page.evaluate(() => window.alertChanges)).toBe(0);
      await alert.getByRole('button', { name: 'Dismiss' }).click();
      expect((await focused()).tag).toBe('H1');
      await page.waitForTimeout(4_500);
      expect(await alert.innerText()).toBe('');

      await tabs().getByRole('link', { name: 'Scheduled calls' }).click();
      await heading('The API could not be reached');
      await checkScreen(page, 'api-down');
      await page.unroute('**/v1/**');
      await page.getByRole('button', { name: 'Retry' }).click();
      await heading('Scheduled calls');
      await page.locator('tbody tr').first().waitFor();
    } finally {
      apiCutOff = false;
      await page.unroute('**/v1/**');
    }
  });

  it('keeps the page and the filters in the address, and a link opened while signed out lands there after sign-in', async () => {
    for (let i = 0; i < 16; i++) await book();
    await page.reload();
    await heading('Scheduled calls');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2').waitFor();
    await page.waitForFunction(() => location.hash.includes('cursor='));
    const secondPage = await page.locator('tbody tr').first().getAttribute('data-call-id');
    await page.locator('tbody tr').first().getByRole('link').first().click();
    await heading(/^Call with/);
    await page.goBack();
    await heading('Scheduled calls');
    await page.getByText('Page 2').waitFor();
    expect(await page.locator('tbody tr').first().getAttribute('data-call-id')).toBe(secondPage);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 1').waitFor();

    // A filtered delivery log, opened in a new tab by someone not signed in yet.
    const link = `${base}/console#/apps/${app.id}/scheduled-calls/config/subscriptions/${subId}?status=succeeded&event=scheduled.cancelled`;
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'UTC' });
    try {
      const other = await fresh.newPage();
      await other.goto(link);
      await heading('Sign in', other);
      await other.getByLabel('API key or operator token').fill(OPERATOR_TOKEN);
      await other.getByRole('button', { name: 'Sign in' }).click();
      await heading('Deliveries', other);
      expect(other.url()).toBe(link);
      expect(await other.getByLabel('Status').inputValue()).toBe('succeeded');
      expect(await other.getByLabel('Event type').inputValue()).toBe('scheduled.cancelled');
      await other
        .locator('tr[data-status="succeeded"]', { has: other.locator('code', { hasText: 'scheduled.cancelled' }) })
        .first()
        .waitFor();
      expect(await other.locator('table.deliveries tbody tr').count()).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('manages the app’s API keys: the new key shown once and copyable, revoking after confirmation', async () => {
    await tabs().getByRole('link', { name: 'API keys' }).click();
    await heading('API keys');
    await page.locator('tr', { hasText: 'default' }).waitFor();
    await page.getByLabel('Name (optional)').fill('CRM sync');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const panel = page.getByRole('region', { name: 'New API key “CRM sync”' });
    await panel.getByText('It is shown only once').waitFor();
    const key = await panel.getByLabel('API key').inputValue();
    expect(key).toMatch(/^scw_ak_/);
    await panel.getByRole('button', { name: 'Copy key' }).click();
    await panel
      .getByRole('status')
      .filter({ hasText: /Copied|selected/ })
      .waitFor();
    await api.http.get(`/v1/apps/${app.id}`).set(bearer(key)).expect(200);
    const row = page.locator('tr', { hasText: 'CRM sync' });
    await row.getByText('active').waitFor();
    await screen('12-api-keys');
    await panel.getByRole('button', { name: /I have stored it/ }).click();
    await panel.waitFor({ state: 'detached' });
    expect(await shows(page, key)).toBe(false);

    await row.getByRole('button', { name: /^Revoke/ }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke API key “CRM sync”?' });
    await checkScreen(page, 'revoke-dialog');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect((await focused()).text).toContain('Revoke');
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await row.getByText('revoked').waitFor();
    expect(await focused()).toMatchObject({ id: 'keys-title' });
    await waitFor('the revoked key refused', async () => (await api.http.get(`/v1/apps/${app.id}`).set(bearer(key))).status === 401);
  });

  it('finds a delivery by event id, booking id, event type and date range, each refused value named beside its field', async () => {
    await page.goto(`${base}/console#/apps/${app.id}/scheduled-calls/config/subscriptions/${subId}`);
    await heading('Deliveries');
    const filters = page.getByRole('search', { name: 'Find a delivery' });
    const first = page.locator('table.deliveries tbody tr').first();
    await first.waitFor();
    const eventId = (await first.locator('code.event-id').innerText()).trim();
    await filters.getByLabel('Event ID').fill(eventId);
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForFunction(
      (id) => location.hash.includes(`event_id=${id}`) && document.querySelectorAll('table.deliveries tbody tr').length === 1,
      eventId,
    );
    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForFunction(() => !location.hash.includes('event_id=') && document.querySelectorAll('table.deliveries tbody tr').length > 1);

    await filters.getByLabel('Event type').selectOption('scheduled.cancelled');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('table.deliveries tbody tr')].every((row: any) => row.textContent.includes('scheduled.cancelled')),
    );
    // A range in the future holds nothing.
    await filters.getByLabel(/^From/).fill('2099-01-01T00:00:00');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No deliveries match these filters.').waitFor();
    expect(decodeURIComponent(page.url())).toContain('from=2099-01-01T00:00:00.000Z');
    await filters.getByRole('button', { name: 'Clear filters' }).click();

    await page.locator('table.deliveries tbody tr').first().waitFor();
    const bookingField = filters.getByLabel('Booking ID');
    await bookingField.fill('not-a-booking-id');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('input[name="scheduled_call_id"][aria-invalid="true"]').waitFor();
    expect((await focused()).id).toBe(await bookingField.getAttribute('id'));
    await screen('15-filters-refused');
    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await page.locator('input[name="scheduled_call_id"]:not([aria-invalid])').waitFor();
  });

  it('fits a 390 × 844 phone on every screen, dialogs with long URLs included, with no axe violation', async () => {
    const longUrl = `${receiver.url}/hooks/${'a-very-long-path-segment-'.repeat(6)}end?tenant=acme-video-production-eu-west`;
    await api.http
      .post(`/v1/apps/${app.id}/webhook-subscriptions`)
      .set(app.auth)
      .send({ url: longUrl, events: ['scheduled.no_show'] })
      .expect(201);
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      locale: 'en-GB',
      timezoneId: 'Europe/Paris',
      isMobile: true,
      hasTouch: true,
    });
    try {
      const p = await phone.newPage();
      await signIn(p, '#/apps');
      await heading('Apps', p);
      await screen('phone-01-apps', p);
      await p.getByRole('link', { name: 'Acme Video' }).click();
      await heading('Acme Video', p);
      await screen('phone-02-app', p);
      await tabs(p).getByRole('link', { name: 'Scheduled calls' }).click();
      await heading('Scheduled calls', p);
      await p.locator('tbody tr').first().waitFor();
      await screen('phone-03-calls', p);
      await p.locator('tbody tr').first().getByRole('link').first().click();
      await heading(/^Call with/, p);
      await screen('phone-04-call', p);
      await tabs(p).getByRole('link', { name: 'Config' }).click();
      await heading('Config', p);
      await p.getByRole('heading', { name: longUrl }).waitFor();
      await screen('phone-05-config', p);
      const longCard = p.locator('article.subscription', { has: p.getByRole('heading', { name: longUrl, exact: true }) });
      await longCard.getByRole('button', { name: /^Edit/ }).click();
      await p.getByRole('dialog', { name: 'Edit subscription' }).waitFor();
      await screen('phone-06-edit-long-url', p);
      const dialogFits = await p.evaluate(() => {
        const d = document.querySelector('dialog');
        return d.scrollWidth <= d.clientWidth;
      });
      expect(dialogFits).toBe(true);
      await p.keyboard.press('Escape');
      await longCard.getByRole('button', { name: /^Delete/ }).click();
      await screen('phone-07-delete-long-url', p);
      await p.getByRole('button', { name: 'Delete subscription' }).click();
      await longCard.waitFor({ state: 'detached' });
      await p
        .locator('article.subscription', { has: p.getByRole('heading', { name: hookUrl, exact: true }) })
        .getByRole('link', { name: /^Deliveries/ })
        .click();
      await heading('Deliveries', p);
      await p.locator('table.deliveries tbody tr').first().waitFor();
      await screen('phone-08-deliveries', p);
      await p.getByRole('region', { name: 'Success rate and latency' }).getByRole('img').first().waitFor();
      // The test send's flow on a phone: its delivery, with the request and response of its attempt.
      await p.getByLabel('Event to send').selectOption('scheduled.no_show');
      await p.getByRole('button', { name: 'Send test event' }).click();
      await heading('Delivery of scheduled.no_show', p);
      await p.locator('article.attempt[data-trigger="test"] .attempt-line', { hasText: 'HTTP 200' }).waitFor();
      expect(await p.getByRole('button', { name: 'Retry now' }).isDisabled()).toBe(true);
      await screen('phone-09-delivery', p);
      await p.goto(`${base}/console#/apps/${app.id}/api-keys`);
      await heading('API keys', p);
      await screen('phone-10-api-keys', p);

      // The remaining flows' panels and dialogs on a phone: a new key shown once, revoking it.
      await p.getByLabel('Name (optional)').fill('Phone key');
      await p.getByRole('button', { name: 'Create API key' }).click();
      const keyPanel = p.getByRole('region', { name: 'New API key “Phone key”' });
      await keyPanel.getByText('It is shown only once').waitFor();
      await screen('phone-11-api-key-created', p);
      await keyPanel.getByRole('button', { name: /I have stored it/ }).click();
      const keyRow = p.locator('tr', { hasText: 'Phone key' });
      await keyRow.getByRole('button', { name: /^Revoke/ }).click();
      const revoke = p.getByRole('dialog', { name: 'Revoke API key “Phone key”?' });
      await revoke.waitFor();
      await screen('phone-12-revoke', p);
      await revoke.getByRole('button', { name: 'Revoke key' }).click();
      await keyRow.getByText('revoked').waitFor();

      // Recovering failed deliveries: the count to confirm.
      receiver.answer(503, 'down on a phone');
      const failing = await book();
      await waitFor('the booking’s delivery failed', async () => {
        const list = await api.http
          .get(`/v1/apps/${app.id}/webhook-subscriptions/${subId}/deliveries?status=failed&scheduled_call_id=${failing.id}`)
          .set(app.auth);
        return list.body.data?.length === 1;
      });
      receiver.answer(200, 'ok');
      await p.goto(`${base}/console#/apps/${app.id}/scheduled-calls/config/subscriptions/${subId}`);
      await heading('Deliveries', p);
      await p.getByRole('button', { name: 'Recover failed deliveries' }).click();
      const recover = p.getByRole('dialog', { name: /^Re-send \d+ failed deliver/ });
      await recover.locator('.recover-count').waitFor();
      await screen('phone-13-recover-confirm', p);
      await recover.getByRole('button', { name: /^Re-send/ }).click();
      await p
        .getByRole('status')
        .filter({ hasText: /^Re-sent \d+ failed deliver/ })
        .waitFor();

      // Config: rotating, pausing and resuming.
      await p.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Config' }).click();
      await heading('Config', p);
      const phoneCard = p.locator('article.subscription', { has: p.getByRole('heading', { name: hookUrl, exact: true }) });
      await phoneCard.getByRole('button', { name: /^Rotate secret/ }).click();
      const rotate = p.getByRole('dialog', { name: 'Rotate signing secret' });
      await rotate.waitFor();
      await screen('phone-14-rotate', p);
      await rotate.getByRole('button', { name: 'Cancel' }).click();
      await rotate.waitFor({ state: 'detached' });
      await phoneCard.getByRole('button', { name: /^Pause/ }).click();
      await phoneCard.locator('.card-head .badge', { hasText: 'paused (manual)' }).waitFor();
      await phoneCard.getByRole('button', { name: /^Resume/ }).click();
      const resume = p.getByRole('dialog', { name: 'Resume subscription' });
      await resume.waitFor();
      await screen('phone-15-resume', p);
      await resume.getByRole('button', { name: 'Resume' }).click();
      await phoneCard.locator('.card-head .badge', { hasText: 'active' }).waitFor();
    } finally {
      await phone.close();
    }
  });

  it('sends a test event and shows its attempt: the request as sent and the response, each copyable', async () => {
    await page.goto(`${base}/console#/apps/${app.id}/scheduled-calls/config/subscriptions/${subId}`);
    await heading('Deliveries');
    await page.getByLabel('Event to send').selectOption('scheduled.cancelled');
    const before = receiver.requests.length;
    await page.getByRole('button', { name: 'Send test event' }).click();
    await heading('Delivery of scheduled.cancelled');
    const attempt = page.locator('article.attempt[data-attempt="1"][data-trigger="test"]');
    await attempt.locator('.attempt-line', { hasText: 'HTTP 200' }).waitFor();
    const sent = await waitFor('the test event at the receiver', () => receiver.requests.slice(before).find((r) => r.json?.test === true));
    expect(sent.json.event).toBe('scheduled.cancelled');
    const request = attempt.getByRole('region', { name: 'Request of attempt 1' });
    await request.locator('pre', { hasText: /x-apifycloud-signature: sha256=[0-9a-f]{64}/i }).waitFor();
    await request.locator('pre', { hasText: '"test": true' }).waitFor();
    const response = attempt.getByRole('region', { name: 'Response of attempt 1' });
    await response.getByText('200', { exact: true }).waitFor();
    await response.locator('pre', { hasText: 'ok' }).waitFor();
    // The body copies as the exact bytes that were sent (and signed), not as the indented view.
    await request.getByRole('button', { name: 'Copy request body of attempt 1' }).click();
    await request.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(sent.rawBody.toString('utf8'));
    await screen('13-delivery-request');
    docsScreenshot(join(ARTIFACTS, '13-delivery-request.png'), 'console-delivery.png');
  });

  it('links each delivery to its booking, whose page lists the deliveries of its events', async () => {
    await page.goto(`${base}/console#/apps/${app.id}/scheduled-calls/config/subscriptions/${subId}?event=scheduled.cancelled`);
    await heading('Deliveries');
    // The booking's row (the test send of the same event type has no booking: it says so).
    await page.locator('table.deliveries tbody tr', { hasText: 'test send (example booking)' }).first().waitFor();
    const row = page
      .locator('table.deliveries tbody tr[data-status="succeeded"]', { has: page.locator('a.booking-link') })
      .filter({ hasText: 'scheduled.cancelled' })
      .first();
    const link = row.locator('a.booking-link');
    await link.getByText('Call with Grace Guest').waitFor();
    const bookingId = (await row.locator('.id-line code').nth(1).innerText()).trim();
    await link.click();
    await heading('Call with Grace Guest');
    const deliveries = page.getByRole('region', { name: 'Webhook deliveries' });
    await deliveries.locator('tbody tr', { hasText: 'scheduled.cancelled' }).first().waitFor();
    await deliveries.locator('tbody tr', { hasText: 'scheduled.created' }).first().waitFor();
    await screen('16-call');
    await deliveries.locator('tbody tr', { hasText: 'scheduled.cancelled' }).first().getByRole('link').first().click();
    await heading('Delivery of scheduled.cancelled');
    await page.getByRole('link', { name: /Call with Grace Guest|Open the booking/ }).waitFor();

    // The log filtered by that booking lists its events only.
    await page.goto(`${base}/console#/apps/${app.id}/scheduled-calls/config/subscriptions/${subId}?scheduled_call_id=${bookingId}`);
    await heading('Deliveries');
    expect(await page.getByLabel('Booking ID').inputValue()).toBe(bookingId);
    await page.waitForFunction(
      (id) =>
        [...document.querySelectorAll('table.deliveries tbody tr')].length > 0 &&
        [...document.querySelectorAll('table.deliveries tbody tr')].every((tr: any) => tr.textContent.includes(id)),
      bookingId,
    );
  });

  it('charts success rate and latency over 1 h, 24 h and 7 d, with the numbers as text and as a table', async () => {
    await page.goto(`${base}/console#/apps/${app.id}/scheduled-calls/config/subscriptions/${subId}`);
    await heading('Deliveries');
    const stats = page.getByRole('region', { name: 'Success rate and latency' });
    await stats
      .locator('.stats-summary', {
        hasText: /^Last 24 hours: \d+ attempts, \d+ succeeded, \d+ failed: success rate [\d.]+%\. Latency p50 \d+ ms, p95 \d+ ms\.$/,
      })
      .waitFor();
    await stats.getByRole('img', { name: 'Success rate per hour, last 24 hours' }).waitFor();
    await stats.getByRole('img', { name: 'Latency per hour (p50 and p95), last 24 hours' }).waitFor();
    // Failed shares are hatched, not only red; latency lines differ by dash and marker.
    expect(await stats.locator('rect.failed').count()).toBeGreaterThan(0);
    expect(await stats.locator('.line.p95 rect').count()).toBeGreaterThan(0);
    await stats.getByText('The numbers, as a table').click();
    expect(await stats.locator('tbody tr').count()).toBe(24);
    await stats.getByLabel('1 h').check();
    await page.waitForFunction(() => location.hash.includes('window=1h'));
    await stats.getByRole('img', { name: 'Success rate per 5 minutes, last hour' }).waitFor();
    expect(await stats.locator('tbody tr').count()).toBe(12);
    await screen('14-chart');
    await stats.screenshot({ path: join(ARTIFACTS, '14-chart-section.png') });
    docsScreenshot(join(ARTIFACTS, '14-chart-section.png'), 'console-chart.png');
    await stats.getByLabel('7 d').check();
    await stats.getByRole('img', { name: 'Success rate per 6 hours, last 7 days' }).waitFor();
    expect(await stats.locator('tbody tr').count()).toBe(28);
  });

  /** Signs in with the operator token in a fresh page and opens `hash`. */
  async function signIn(on: Page, hash: string): Promise<void> {
    on.setDefaultTimeout(15_000);
    on.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    await on.goto(`${base}/console#/sign-in`);
    await on.getByLabel('API key or operator token').fill(OPERATOR_TOKEN);
    await on.getByRole('button', { name: 'Sign in' }).click();
    await on.getByRole('heading', { level: 1, name: 'Apps' }).waitFor();
    await on.goto(`${base}/console${hash}`);
  }

  it('ran without a script error or a Content-Security-Policy violation', () => {
    expect(pageProblems).toEqual([]);
  });
});

/** Whether the page shows `secret` anywhere: in its text or in a field. */
function shows(page: Page, secret: string): Promise<boolean> {
  return page.evaluate((s) => document.body.innerText.includes(s) || [...document.querySelectorAll('input')].some((input) => input.value === s), secret);
}

async function expectChecked(box: Locator): Promise<void> {
  expect(await box.isChecked()).toBe(true);
}
