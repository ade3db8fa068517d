// Two tsc passes: CommonJS (the package is "type": "commonjs", so nodenext emits CJS) and ESM.
// Each output folder gets a package.json naming its module type, so Node and TypeScript read
// dist/esm/*.js and *.d.ts as ESM and dist/cjs as CommonJS.
//   node scripts/build.mjs [--out-dir DIR]   builds into DIR/dist (default: this package's dist/);
// the tests build into their own folders, so they never rewrite a dist/ that something else reads.
import { execFileSync } from 'node:child_process';
import { rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');

const outFlag = process.argv.indexOf('--out-dir');
const outRoot = outFlag === -1 ? root : resolve(process.argv[outFlag + 1] ?? '');
const dist = join(outRoot, 'dist');

rmSync(dist, { recursive: true, force: true });
for (const [config, type] of [
  ['tsconfig.build.cjs.json', 'commonjs'],
  ['tsconfig.build.esm.json', 'module'],
]) {
  const out = join(dist, type === 'module' ? 'esm' : 'cjs');
  execFileSync(process.execPath, [tsc, '-p', join(root, config), '--outDir', out], { cwd: root, stdio: 'inherit' });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type }) + '\n');
}
