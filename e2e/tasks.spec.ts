import { join } from 'node:path';
import { expect, test } from './fixtures';

test('a task\'s progress appears in the drawer as it runs, and it ends at 100%', async ({ shell, server }) => {
  const { page } = shell;
  await shell.openTaskDrawer();
  // A throttled backup: one page per step with a pause, so its progress is visible for a few seconds.
  const { taskId } = (await server.api('system.backup', { destination: join(server.dataDir, 'drawer.db'), pagesPerStep: 1, pauseMs: 40 })).body as { taskId: string };
  const row = page.getByTestId(`task-row-${taskId}`);
  await expect(row).toBeVisible();
  const progress = page.getByTestId(`task-progress-${taskId}`);
  const value = async () => Number((await progress.getAttribute('aria-valuenow')) ?? (await progress.innerText()).match(/\d+/)?.[0] ?? NaN);
  await expect.poll(value, { timeout: 15_000 }).toBeGreaterThan(1);
  const mid = await value();
  expect(mid).toBeLessThan(100);
  await expect(row).toContainText(/pages/);
  await expect.poll(value, { timeout: 60_000 }).toBe(100);
  await expect(row).toContainText(/Succeeded|succeeded/);
});

test('a backup started from Settings runs as a task and shows its result', async ({ shell }) => {
  await shell.open('settings');
  const { page } = shell;
  await page.getByTestId('backup-run').click();
  await expect(page.getByTestId('backup-result')).toContainText('backups', { timeout: 20_000 });
  await shell.open('tasks');
  await expect(page.getByTestId('page-tasks')).toContainText(/Database backup/);
});
