// workerd entry (`workerd test`, no nodejs_compat): web-entry.js re-exports the `/web` build the
// workerd conditions select from the installed package (embedded module by module); the delivery
// comes in as a text binding, the outcomes go to stdout.
import * as web from './web-entry.js';
import { runCases } from './cases.mjs';

export default {
  async test(_controller, env) {
    console.log('OUTCOMES ' + JSON.stringify(await runCases(web, JSON.parse(env.DELIVERY))));
  },
};
