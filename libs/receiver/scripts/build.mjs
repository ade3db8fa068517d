// Two tsc passes: CommonJS (the package is "type": "commonjs", so nodenext emits CJS) and ESM.
// Each output folder gets a package.json naming its module type, so Node and TypeScript read
// dist/esm/*.js and *.d.ts as ESM and dist/cjs as CommonJS.
import { execFileSync } from 'node:child_process';
import { rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');

rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const [config, type] of [['tsconfig.build.cjs.json', 'commonjs'], ['tsconfig.build.esm.json', 'module']]) {
  execFileSync(process.execPath, [tsc, '-p', join(root, config)], { cwd: root, stdio: 'inherit' });
  const out = join(root, 'dist', type === 'module' ? 'esm' : 'cjs');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type }) + '\n');
}
