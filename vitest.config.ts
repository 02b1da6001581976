import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import pkg from './package.json' with { type: 'json' };

/** Unit and integration tests beside the code, on plain Node (the e2e suite runs separately with Playwright). */
export default defineConfig({
  resolve: { alias: { '@shared': resolve(import.meta.dirname, 'shared') } },
  define: { __SKYDECK_VERSION__: JSON.stringify(pkg.version) },
  test: {
    include: ['{main,shared,electron,renderer,agents,scripts,bench}/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // The KVM integration tests install the real agent bundle and Node runtime on sshd hosts: built first if stale.
    globalSetup: ['scripts/vitest-global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
