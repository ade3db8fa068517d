import { existsSync } from 'node:fs';
import { Browser, chromium } from 'playwright-core';

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
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
