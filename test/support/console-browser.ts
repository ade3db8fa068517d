import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, headless, as root with no outside network: no sandbox (root), and every
 * background service that would otherwise keep dialling out switched off. Playwright gives each
 * launch a fresh temporary --user-data-dir itself (and refuses one in `args`).
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}, and the console browser tests need it. ` +
        'Install it with "apt-get update && apt-get install -y chromium" (`npm test` does this itself when run as root), or point CHROMIUM_PATH at one.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// axe-core from the npm registry, evaluated in the page through the DevTools protocol: that is not a
// <script> element, so the console's Content-Security-Policy stays as strict as in production.

const AXE_SOURCE: string = require('axe-core').source;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's violations on the page as it is now (every rule axe runs by default, best practices included). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\\s+/g, ' ')),
  })))`);
}

/** What a screen must be, on any viewport: no axe violation, and no wider than the window (no sideways scrolling). */
export async function checkScreen(page: Page, name: string): Promise<void> {
  const violations = await axeViolations(page);
  // Against the viewport asked for, not window.innerWidth: a mobile browser zooms out to fit a page too
  // wide, which widens innerWidth with it.
  const width = { page: await page.evaluate<number>('document.documentElement.scrollWidth'), window: page.viewportSize()!.width };
  expect({ screen: name, violations, tooWide: width.page > width.window ? width : null }).toEqual({ screen: name, violations: [], tooWide: null });
}

const DOCS = join(__dirname, '..', '..', 'docs');

/** A README picture: written when missing or on request (UPDATE_DOCS_SCREENSHOTS=1), so a test run leaves the working tree clean. */
export function docsScreenshot(from: string, name: string): void {
  const to = join(DOCS, name);
  if (process.env.UPDATE_DOCS_SCREENSHOTS === '1' || !existsSync(to)) copyFileSync(from, to);
}
