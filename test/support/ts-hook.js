/**
 * Lets a test start the worker from source as a real child process (node -r this-file main.ts):
 * TypeScript is compiled on the fly with swc, and @app/shared is mapped to libs/shared/src.
 */
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');
const { transformSync } = require('@swc/core');

const root = join(__dirname, '..', '..');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@app/shared' || request.startsWith('@app/shared/')) {
    request = join(root, 'libs/shared/src', request.slice('@app/shared'.length));
  }
  return resolve.call(this, request, ...rest);
};
require.extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
