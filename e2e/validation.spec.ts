import { expect, test } from './fixtures';

test('bad input shows a clear validation message next to the field and changes nothing', async ({ shell, server }) => {
  const before = (await server.api('tasks.list', {})).body.total as number;
  await shell.open('settings');
  const { page } = shell;
  await page.getByTestId('backup-destination').locator('input').fill('relative/backup.db');
  await page.getByTestId('backup-run').click();
  await expect(page.getByTestId('field-error-destination')).toContainText('absolute path');
  await expect(page.locator('.el-message--error').first()).toBeVisible();
  expect((await server.api('tasks.list', {})).body.total).toBe(before);
  // The refused call is in the audit log as an error.
  const audit = (await server.api('audit.list', { filter: ['action:system.backup', 'result:error'] })).body;
  expect(audit.total).toBeGreaterThanOrEqual(1);
});

test('the API answers malformed input with a specific error', async ({ server }) => {
  const res = await fetch(`${server.origin}/api/v1/settings.set`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ patch: { pageSize: 5 } }),
  });
  expect(res.status).toBe(400);
  const body = (await res.json()) as { code: string; details: { issues: { path: string; message: string }[] } };
  expect(body.code).toBe('validation');
  expect(body.details.issues[0]!.path).toBe('patch.pageSize');
});

test('a call without the token is refused, and a page without it explains how to open the app', async ({ page, server }) => {
  const res = await fetch(`${server.origin}/api/v1/system.info`, { method: 'POST' });
  expect(res.status).toBe(401);
  await page.goto(server.origin + '/');
  await expect(page.getByTestId('no-access')).toBeVisible();
  await expect(page.getByTestId('no-access')).toContainText('npm run serve');
});
