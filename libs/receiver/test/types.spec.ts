import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const packageDir = join(__dirname, '..');
const generator = join(packageDir, 'scripts', 'generate-types.mjs');

function run(command: string, args: string[]): { status: number; output: string } {
  try {
    return { status: 0, output: execFileSync(command, args, { cwd: packageDir, encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { status: failed.status, output: `${failed.stdout}${failed.stderr}` };
  }
}

describe('generated types', () => {
  it('src/core/generated/scheduled-call.ts matches docs/openapi.json (run `npm run receiver:generate-types` if not)', () => {
    const result = run(process.execPath, [generator, '--check']);

    expect(result).toEqual({ status: 0, output: '' });
  });

  it("the check fails when the platform's record changes", () => {
    const document = JSON.parse(readFileSync(join(packageDir, '..', '..', 'docs', 'openapi.json'), 'utf8'));
    document.components.schemas.ScheduledCall.properties.added_field = { type: 'string' };
    document.components.schemas.ScheduledCall.required.push('added_field');
    const changed = join(mkdtempSync(join(tmpdir(), 'receiver-types-')), 'openapi.json');
    writeFileSync(changed, JSON.stringify(document));

    const result = run(process.execPath, [generator, '--check', '--document', changed]);

    expect(result.status).toBe(1);
    expect(result.output).toContain('is stale');
  });

  it('routing narrows each event (test/types/routing-narrowing.ts compiles, its @ts-expect-error lines are errors)', () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const result = run(process.execPath, [
      tsc,
      '--ignoreConfig',
      '--noEmit',
      '--strict',
      '--noUncheckedIndexedAccess',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--skipLibCheck',
      '--types',
      'node',
      join(packageDir, 'test', 'types', 'routing-narrowing.ts'),
    ]);

    expect(result).toEqual({ status: 0, output: '' });
  }, 60_000);
});
