import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export const packageDir = join(__dirname, '..', '..');

/** What never goes into the staged copy: installed packages, an earlier build, earlier tarballs. */
const NOT_STAGED = /^(node_modules|dist)(\/|$)|\.tgz$/;

/**
 * The tarball users would get from `npm pack` (prepack builds dist/, then package.json `files`
 * picks what ships), made without touching this package's own dist/: the package's files are copied
 * to `<workDir>/stage` (sources and tests included, so `files` really has to leave them out), the
 * build script writes `stage/dist`, and `npm pack --ignore-scripts` packs the stage. Spec files run
 * in parallel and the benchmark reads dist/, so none of them may rebuild it under the others.
 */
export function packPackage(workDir: string): { tarball: string; files: string[] } {
  const stage = join(workDir, 'stage');
  cpSync(packageDir, stage, {
    recursive: true,
    filter: (source) => !NOT_STAGED.test(relative(packageDir, source).split(sep).join('/')),
  });
  execFileSync(process.execPath, [join(packageDir, 'scripts', 'build.mjs'), '--out-dir', stage], { cwd: packageDir, stdio: 'pipe', timeout: 180_000 });
  const output = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', workDir], {
    cwd: stage,
    encoding: 'utf8',
    stdio: 'pipe',
    timeout: 120_000,
  });
  const [packed] = JSON.parse(output) as Array<{ filename: string; files: Array<{ path: string }> }>;
  return { tarball: join(workDir, packed!.filename), files: packed!.files.map((file) => file.path) };
}

/**
 * Node's resolution of a package `exports` target (the first key of each conditions object that is
 * in `conditions` or is `default`, depth first), for runtimes that resolve nothing themselves
 * (workerd) and to check what each runtime's conditions select.
 */
export function resolveExport(exportsField: unknown, subpath: string, conditions: readonly string[]): string | undefined {
  const entry = (exportsField as Record<string, unknown>)[subpath];
  const pick = (target: unknown): string | undefined => {
    if (typeof target === 'string') return target;
    if (target === null || typeof target !== 'object' || Array.isArray(target)) return undefined;
    for (const [key, value] of Object.entries(target)) {
      if (key !== 'default' && !conditions.includes(key)) continue;
      const found = pick(value);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return pick(entry);
}
