import { test as base, expect, type Page } from '@playwright/test';
import { removeDir, startServer, type ServerHandle } from './server';

export const AREAS = [
  'dashboard', 'hosts', 'guests', 'networks', 'storage', 'images', 'cloud-accounts', 'baremetal',
  'tasks', 'monitoring', 'alerts', 'reports', 'audit', 'settings',
] as const;
/** Areas whose real content later issues bring; until then they show an empty state that says what they are for. */
export const EMPTY_AREAS = ['hosts', 'guests', 'networks', 'storage', 'images', 'cloud-accounts', 'baremetal', 'monitoring', 'alerts'] as const;

/** Page object of the app shell. */
export class Shell {
  constructor(readonly page: Page) {}
  nav(area: string) {
    return this.page.getByTestId(`nav-${area}`);
  }
  async open(area: string) {
    await this.nav(area).click();
    await expect(this.page.getByTestId(`page-${area}`)).toBeVisible();
  }
  taskDrawer() {
    return this.page.getByTestId('task-drawer');
  }
  async openTaskDrawer() {
    await this.page.getByTestId('task-drawer-toggle').click();
    await expect(this.taskDrawer()).toBeVisible();
  }
}

type Fixtures = { shell: Shell };
type WorkerFixtures = { server: ServerHandle };

/** One real headless server per worker (fresh data directory), one fresh page per test. */
export const test = base.extend<Fixtures, WorkerFixtures>({
  server: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const s = await startServer();
      await use(s);
      await s.stop();
      removeDir(s.dataDir);
    },
    { scope: 'worker' },
  ],
  shell: async ({ page, server }, use) => {
    await page.goto(server.url);
    await expect(page.getByTestId('page-dashboard')).toBeVisible();
    await use(new Shell(page));
  },
});

/**
 * The same fixtures with a server of the spec's own (for specs that add real hosts, so other specs still see an empty
 * inventory). Call it once per spec file: each call registers its own worker fixture, so two specs running in the same
 * worker get two servers (one shared object would give them one).
 */
export function testWithOwnServer() {
  return test.extend<object, { server: ServerHandle }>({
    server: [
      // eslint-disable-next-line no-empty-pattern
      async ({}, use) => {
        const s = await startServer();
        await use(s);
        await s.stop();
        removeDir(s.dataDir);
      },
      { scope: 'worker' },
    ],
  });
}

export { expect };
