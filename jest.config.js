/** Two projects: the platform (apps, libs/shared, test/) and the published receiver package. */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022', keepClassNames: true } }];

module.exports = {
  projects: [
    {
      displayName: 'platform',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/shared/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': swc },
      moduleNameMapper: { '^@app/shared$': '<rootDir>/libs/shared/src', '^@app/shared/(.*)$': '<rootDir>/libs/shared/src/$1' },
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['reflect-metadata'],
    },
    '<rootDir>/libs/receiver/jest.config.js',
  ],
};
