/**
 * Tests run as native ES modules (NestJS 12 ships ESM only), transpiled by ts-jest file by file
 * (no type check here: `npm run lint` runs tsc) with legacy decorators and emitted metadata, so
 * Nest's dependency injection works unchanged.
 * Tiers: `*.spec.ts` (pure, beside the code), `*.int-spec.ts` (real services), `*.e2e-spec.ts`.
 * Two workers even on two cores: most suites spend their time waiting on the real services they
 * start (each on its own free ports, with its own rig users), so two run side by side in far less
 * than twice the time of one.
 */
const typescript = [
  'ts-jest',
  {
    useESM: true,
    transpilation: true,
    tsconfig: { module: 'esnext', moduleResolution: 'bundler', isolatedModules: true, sourceMap: true },
  },
];

export default {
  testEnvironment: 'node',
  maxWorkers: 2,
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': typescript },
  moduleNameMapper: {
    '^#libs/domain/testing$': '<rootDir>/libs/domain/src/testing/index.ts',
    '^#libs/(.*)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/{apps,libs,deploy,test,bench}/**/*.{spec,int-spec,e2e-spec}.ts'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.nimbus/'],
};
