// `npm test` pre-step: the console's browser tests drive Debian's Chromium. On a fresh machine it is
// installed here (once, about 15 s), so `npm ci && npm test` is the whole set-up.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(path)) {
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canInstall) {
    console.error(
      `[test] Chromium is not installed at ${path}; the console browser tests need it. Install it with "sudo apt-get install -y chromium", or set CHROMIUM_PATH to a Chromium or Chrome binary.`,
    );
    process.exit(1);
  }
  console.error(`[test] Chromium is not installed at ${path}; installing Debian's chromium for the console browser tests (once, about 15 s)`);
  const run = (args) => execFileSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    run(['update', '-qq']);
    run(['install', '-y', '-qq', 'chromium']);
  } catch (error) {
    console.error(`[test] Installing chromium failed (${error.message}). Install it yourself with "apt-get install -y chromium", or set CHROMIUM_PATH.`);
    process.exit(1);
  }
  console.error('[test] Chromium installed');
}
