// Deno / Bun / Node entry: <cli.mjs> <built webcrypto-verify.js URL> <delivery.json path>; prints the outcomes as JSON.
import { runCases } from './cases.mjs';

const args = typeof Deno !== 'undefined' ? Deno.args : process.argv.slice(2);
const [moduleUrl, dataPath] = args;
const text = typeof Deno !== 'undefined' ? await Deno.readTextFile(dataPath) : typeof Bun !== 'undefined' ? await Bun.file(dataPath).text() : (await import('node:fs')).readFileSync(dataPath, 'utf8');
const web = await import(moduleUrl);
console.log(JSON.stringify(await runCases(web, JSON.parse(text))));
