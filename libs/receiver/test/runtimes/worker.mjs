// workerd entry (`workerd test`): the delivery comes in as a text binding, the outcomes go to stdout.
import * as web from './web/webcrypto-verify.js';
import { runCases } from './cases.mjs';

export default {
  async test(_controller, env) {
    console.log('OUTCOMES ' + JSON.stringify(await runCases(web, JSON.parse(env.DELIVERY))));
  },
};
