import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests of the whole app through the headless server, in Debian's Chromium (never a downloaded browser).
 * Each test file starts its own `out/main/serve.js` with a fresh data directory (see e2e/fixtures.ts).
 */
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  // One worker: specs with SSH/KVM peers create network namespaces, a bridge and veth pairs, and Chromium aborts every
  // request in flight when it sees a network interface come or go (net::ERR_NETWORK_CHANGED). With two workers, one
  // spec's peers starting made the other spec's page lose its stylesheet (seen in CI: an unstyled page, a click
  // intercepted). Serial runs take ~5–6 minutes instead of ~3.
  workers: 1,
  retries: 0,
  reporter: [['list']],
  globalSetup: './e2e/global-setup.ts',
  use: {
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    launchOptions: {
      executablePath: process.env.SKYDECK_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
