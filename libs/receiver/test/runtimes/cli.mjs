// Node / Deno / Bun entry, run from a project that installed the packed tarball: `/web` is resolved by
// the runtime itself, with its own export conditions. Argument: the delivery.json path. Prints the outcomes as JSON.
/* global Deno, Bun */
import * as web from '@apifycloud/webhook-receiver/web';
import { runCases } from './cases.mjs';

const [dataPath] = typeof Deno !== 'undefined' ? Deno.args : process.argv.slice(2);
const text =
  typeof Deno !== 'undefined'
    ? await Deno.readTextFile(dataPath)
    : typeof Bun !== 'undefined'
      ? await Bun.file(dataPath).text()
      : (await import('node:fs')).readFileSync(dataPath, 'utf8');
console.log(JSON.stringify(await runCases(web, JSON.parse(text))));
