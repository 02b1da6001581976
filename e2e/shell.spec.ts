import { AREAS, EMPTY_AREAS, expect, test } from './fixtures';

test('the app loads, takes the token out of the address bar, and shows the dashboard', async ({ shell, server }) => {
  const { page } = shell;
  await expect(page).toHaveTitle(/Skydeck/);
  expect(page.url()).not.toContain('token=');
  await expect(page.getByTestId('dashboard-system')).toContainText(server.dataDir);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
});

test('every navigation entry opens its area', async ({ shell }) => {
  for (const area of AREAS) {
    await shell.open(area);
    await expect(shell.page).toHaveURL(new RegExp(`/${area}$`));
  }
});

test('areas still to come say what they are for and how to start', async ({ shell }) => {
  for (const area of EMPTY_AREAS) {
    await shell.open(area);
    const empty = shell.page.getByTestId(`empty-${area}`);
    await expect(empty).toBeVisible();
    expect((await empty.innerText()).trim().length).toBeGreaterThan(40);
  }
});

test('a reload keeps the current route', async ({ shell }) => {
  await shell.open('audit');
  await shell.page.reload();
  await expect(shell.page.getByTestId('page-audit')).toBeVisible();
});

test('the global search finds navigation areas and tasks', async ({ shell, server }) => {
  const { taskId } = (await server.api('system.backup', {})).body as { taskId: string };
  const box = shell.page.getByTestId('global-search').locator('input');
  await box.fill('backup');
  const hit = shell.page.locator('[data-testid^="search-hit-"]').filter({ hasText: /backup/i }).first();
  await expect(hit).toBeVisible();
  await box.fill('audit');
  await shell.page.locator('[data-testid^="search-hit-"]').filter({ hasText: /Audit log/ }).first().click();
  await expect(shell.page.getByTestId('page-audit')).toBeVisible();
  expect(taskId).toBeTruthy();
});
