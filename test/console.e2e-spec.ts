import { createHmac } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium } from './support/console-browser';
import { createBooking, createVideoApp, startTestApi, TestApi, TestVideoApp } from './support/test-api';
import { OPERATOR_TOKEN } from './support/test-env';
import { TestReceiver } from './support/test-receiver';
import { startTestWorker, TestWorker } from './support/test-worker';
import { waitFor } from './support/wait-for';

// Functions passed to page.evaluate run in the browser; this Node project has no DOM types, so name the globals they use.
declare const document: any, sessionStorage: any, localStorage: any;

const ARTIFACTS = join(__dirname, '..', 'test-artifacts', 'console');
const DOCS_SCREENSHOT = join(__dirname, '..', 'docs', 'console-config.png');
// Three quick attempts, so a failing receiver fails a delivery (and makes its subscription failing) in under a second.
const WEBHOOK_ENV = { WEBHOOK_RETRY_SCHEDULE: '0s,200ms,200ms', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_FAILING_AFTER: '3' };

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
  const pageProblems: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    api = await startTestApi(WEBHOOK_ENV);
    worker = await startTestWorker(api, WEBHOOK_ENV);
    receiver = await (new TestReceiver()).start();
    hookUrl = `${receiver.url}/hooks`;
    app = await createVideoApp(api, { name: 'Acme Video', no_show_grace_minutes: 10 });
    const address = api.app.getHttpServer().address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // A script error or a CSP violation in the page fails the run (checked in the last test).
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) pageProblems.push(`console error: ${message.text()}`);
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
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name }).waitFor();
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
    await shot('01-sign-in');
    await page.getByLabel('API key or operator token').fill(app.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'enter its app ID as well' }).waitFor();
    await page.getByLabel('App ID (with an app API key)').fill(app.id);
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
    await page.getByRole('alert').filter({ hasText: 'The API key or token is not valid.' }).waitFor();
  });

  it('signs in with the operator token from the keyboard and walks Apps → app → Scheduled calls → Config', async () => {
    const key = page.getByLabel('API key or operator token');
    await key.fill('');
    await key.focus();
    await page.keyboard.type(OPERATOR_TOKEN);
    await page.keyboard.press('Enter');
    await heading('Apps');
    await shot('02-apps');
    await page.getByRole('link', { name: 'Acme Video' }).click();
    await heading('Acme Video');
    await shot('03-app');
    await page.getByRole('navigation', { name: 'App sections' }).getByRole('link', { name: 'Scheduled calls' }).click();
    await heading('Scheduled calls');
    await page.getByText('No scheduled calls yet.').waitFor();
    await page.getByRole('navigation', { name: 'App sections' }).getByRole('link', { name: 'Config' }).click();
    await heading('Config');
    const crumbs = await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('listitem').allInnerTexts();
    expect(crumbs.map((text) => text.replace(/^›\s*/, '').trim())).toEqual(['Apps', 'Acme Video', 'Scheduled calls', 'Config']);
    await page.getByText('No subscriptions yet.').waitFor();
  });

  it('refuses a bad subscription URL with the API’s reason', async () => {
    await page.getByLabel('Endpoint URL').fill('ftp://example.com/hooks');
    await page.getByRole('button', { name: 'Add subscription' }).click();
    const error = page.locator('form[aria-labelledby="add-title"] [role="alert"]');
    await error.waitFor();
    expect((await error.innerText()).length).toBeGreaterThan(10);
    expect(await error.innerText()).not.toMatch(/^\s*\d{3}\s*$/);
  });

  it('adds a subscription to the loopback receiver and shows its secret once, with a copy button', async () => {
    await page.getByLabel('Endpoint URL').fill(hookUrl);
    await page.getByLabel('Description (optional)').fill('Bookings to our CRM');
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
    await panel.getByRole('status').filter({ hasText: /Copied|selected/ }).waitFor();
    await badgeOf(card(), 'active');
    await shot('04-config-new-secret');
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
    await deliveryRow('scheduled.created', 'succeeded').waitFor();
    await shot('05-delivery-log');
  });

  it('shows failing when the receiver fails, and a manual retry that lands and succeeds', async () => {
    const booking = await book();
    await waitFor('the booking delivered', () => receiver.requests.some((r) => r.json?.payload?.scheduled_call?.id === booking.id));
    receiver.answer(500, 'receiver is down for maintenance');
    api.clock.advance(1_000);
    await api.http.post(`/v1/apps/${app.id}/scheduled-calls/${booking.id}/cancel`).set(app.auth).send({ reason: 'guest is ill' }).expect(200);
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Config' }).click();
    await heading('Config');
    await badgeOf(card(), 'failing');
    await card().locator('.last-delivery', { hasText: 'scheduled.cancelled' }).filter({ hasText: 'HTTP 500' }).waitFor();
    await shot('06-config-failing');

    await card().getByRole('link', { name: /^Deliveries/ }).click();
    await heading('Deliveries');
    await page.getByLabel('Status').selectOption('failed');
    await deliveryRow('scheduled.cancelled', 'failed').getByRole('link').click();
    await heading(/Delivery of/);
    await page.locator('table.attempts tr[data-attempt="3"][data-trigger="automatic"]').waitFor();
    expect(await page.locator('table.attempts tbody tr').count()).toBe(3);
    await page.locator('table.attempts').getByText('receiver is down for maintenance').first().waitFor();

    receiver.answer(200, 'thanks');
    await page.getByRole('button', { name: 'Retry now' }).click();
    const manual = page.locator('table.attempts tr[data-attempt="4"][data-trigger="manual"]');
    await manual.filter({ hasText: '200' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Attempt 4 landed: HTTP 200' }).waitFor();
    await page.locator('.facts .badge', { hasText: 'succeeded' }).waitFor();
    await shot('07-delivery-retried');

    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Config' }).click();
    await badgeOf(card(), 'active');
  });

  it('recovers the failed deliveries since a given time', async () => {
    receiver.answer(503, 'still warming up');
    const booking = await book();
    await badgeOf(card(), 'failing');
    await card().getByRole('link', { name: /^Deliveries/ }).click();
    await heading('Deliveries');
    await deliveryRow('scheduled.created', 'failed').waitFor();
    receiver.answer(200, 'ok');
    await page.getByRole('button', { name: 'Recover failed deliveries' }).click();
    await page.getByRole('status').filter({ hasText: 'Re-sent 1 failed delivery' }).waitFor();
    await waitFor('the recovered delivery at the receiver', () => receiver.requests.some((r) => r.json?.payload?.scheduled_call?.id === booking.id && r.headers['x-apifycloud-signature'] && r.json.attempt === 4));
    await page.locator('.card-head .badge', { hasText: 'active' }).waitFor();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No deliveries with this status.').waitFor();
  });

  it('pauses from the keyboard, holds new events, and resumes sending the held ones', async () => {
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Config' }).click();
    await heading('Config');
    await card().getByRole('button', { name: /^Pause/ }).focus();
    await page.keyboard.press('Enter');
    await badgeOf(card(), 'paused (manual)');
    await card().getByText('Paused by an admin').waitFor();
    // Focus survives the automatic refresh: it moves to the button that replaced the one pressed.
    await page.waitForFunction(() => document.activeElement?.textContent?.startsWith('Resume'));

    const received = receiver.requests.length;
    const booking = await book();
    await card().getByRole('link', { name: /^Deliveries/ }).click();
    await heading('Deliveries');
    await deliveryRow('scheduled.created', 'held').waitFor();
    expect(receiver.requests.length).toBe(received);
    await shot('08-paused-held');

    await page.getByRole('button', { name: /^Resume/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Resume subscription' });
    await expectChecked(dialog.getByRole('checkbox', { name: /send the deliveries held/ }));
    await dialog.getByRole('button', { name: 'Resume' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('.card-head .badge', { hasText: 'active' }).waitFor();
    await waitFor('the held delivery at the receiver', () => receiver.requests.some((r) => r.json?.payload?.scheduled_call?.id === booking.id));
    await page.getByLabel('Status').selectOption('held');
    await page.getByText('No deliveries with this status.').waitFor();
  });

  it('rotates the secret with a grace period and shows the new one once', async () => {
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Config' }).click();
    await heading('Config');
    await card().getByRole('button', { name: /^Rotate secret/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate signing secret' });
    await dialog.getByLabel('Grace period for the old secret').selectOption('3600');
    await dialog.getByRole('button', { name: 'Rotate secret' }).click();
    const panel = page.getByRole('region', { name: 'New signing secret' });
    await panel.getByText('It is shown only once').waitFor();
    await panel.getByText('for 1 hour').waitFor();
    const secret = await panel.getByLabel('Signing secret').inputValue();
    expect(secret).not.toBe(firstSecret);
    await panel.getByRole('button', { name: 'Copy secret' }).click();
    await panel.getByRole('status').filter({ hasText: /Copied|selected/ }).waitFor();
    await card().getByText('Still signs too until').waitFor();
    await shot('09-rotated-secret');

    // Deliveries are now signed with the secret shown, and with the old one during the grace period.
    const booking = await book();
    const delivered = await waitFor('a delivery signed after the rotation', () => receiver.requests.find((r) => r.json?.payload?.scheduled_call?.id === booking.id));
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

  it('edits a subscription, and deletes another after confirmation', async () => {
    await card().getByRole('button', { name: /^Edit/ }).click();
    const edit = page.getByRole('dialog', { name: 'Edit subscription' });
    await edit.getByLabel('Description (optional)').fill('Bookings to our CRM (production)');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.waitFor({ state: 'detached' });
    await card().getByText('Bookings to our CRM (production)').waitFor();

    const other = `${receiver.url}/cancellations`;
    await page.getByLabel('Endpoint URL').fill(other);
    await page.getByRole('checkbox', { name: /All events/ }).uncheck();
    for (const event of ['scheduled.created', 'scheduled.confirmed', 'scheduled.rescheduled', 'scheduled.no_show']) {
      await page.getByRole('checkbox', { name: event }).uncheck();
    }
    await page.getByRole('button', { name: 'Add subscription' }).click();
    await page.getByRole('region', { name: /signing secret/i }).getByRole('button', { name: /I have stored it/ }).click();
    await card(other).getByText('scheduled.cancelled').waitFor();

    await card(other).getByRole('button', { name: /^Delete/ }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete subscription?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    await card(other).waitFor();
    await card(other).getByRole('button', { name: /^Delete/ }).click();
    await confirm.getByRole('button', { name: 'Delete subscription' }).click();
    await card(other).waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: 'deleted' }).waitFor();
    const left = await api.http.get(`/v1/apps/${app.id}/webhook-subscriptions`).set(app.auth).expect(200);
    expect(left.body.data.map((s: { url: string }) => s.url)).toEqual([hookUrl]);
    await page.reload();
    await heading('Config');
    await badgeOf(card(), 'active');
    await shot('10-config');
    // The README's picture: written when missing or on request, so a test run leaves the working tree clean.
    if (process.env.UPDATE_DOCS_SCREENSHOTS === '1' || !existsSync(DOCS_SCREENSHOT)) copyFileSync(join(ARTIFACTS, '10-config.png'), DOCS_SCREENSHOT);
  });

  it('lists the scheduled calls with their status and the events in their timeline', async () => {
    await page.getByRole('navigation', { name: 'App sections' }).getByRole('link', { name: 'Scheduled calls' }).click();
    await heading('Scheduled calls');
    const cancelled = page.locator('tbody tr', { has: page.locator('.badge', { hasText: 'cancelled' }) });
    await cancelled.waitFor();
    await cancelled.getByText(/^Timeline/).click();
    await cancelled.getByText('Cancelled: “guest is ill”').waitFor();
    await cancelled.locator('code', { hasText: 'scheduled.cancelled' }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(5);
    await shot('11-scheduled-calls');
    await page.getByLabel('Status').selectOption('cancelled');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
  });

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
