const { existsSync, readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
  },
];

/**
 * Nest 12 and some of its dependencies ship ESM only, and Jest on Node 20 cannot require(esm)
 * (Node itself can, which is how the built apps run). So swc compiles exactly the installed
 * packages whose package.json says "type": "module" to CommonJS; everything else loads untouched.
 */
function esmPackages(dir = join(__dirname, 'node_modules')) {
  const names = [];
  for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
    if (entry.startsWith('.')) continue;
    const scoped = entry.startsWith('@');
    for (const name of scoped ? readdirSync(join(dir, entry)).map((n) => `${entry}/${n}`) : [entry]) {
      try {
        if (JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')).type === 'module') names.push(name);
      } catch {
        // not a package
      }
    }
  }
  return names;
}

const escapeRegExp = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

module.exports = {
  projects: [
    {
      displayName: 'platform',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/shared/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
      transform: { '^.+\\.(t|j|mj)s$': swc },
      transformIgnorePatterns: [`/node_modules/(?!(${esmPackages().map(escapeRegExp).join('|')})/)`],
      // The receiver package's sources import siblings with .js extensions (they build to ESM too).
      moduleNameMapper: { '^@app/shared$': '<rootDir>/libs/shared/src', '^@app/shared/(.*)$': '<rootDir>/libs/shared/src/$1', '^(\\.{1,2}/.*)\\.js$': '$1' },
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['reflect-metadata'],
    },
    ...(existsSync(join(__dirname, 'libs/receiver/jest.config.js')) ? ['<rootDir>/libs/receiver/jest.config.js'] : []),
  ],
};
