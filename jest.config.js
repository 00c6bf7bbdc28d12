/**
 * Tests run as native ES modules (NestJS 12 ships ESM only), transpiled by SWC with
 * legacy decorators and emitted metadata so Nest's dependency injection works unchanged.
 * Tiers: `*.spec.ts` (pure, beside the code), `*.int-spec.ts` (real services), `*.e2e-spec.ts`.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^#libs/(.*)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/{apps,libs,deploy,test,bench}/**/*.{spec,int-spec,e2e-spec}.ts'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.nimbus/'],
};
