import { expect, test } from './fixtures';

test.describe.configure({ mode: 'serial' });

test('language switches to Chinese and back, and persists across a reload', async ({ shell, server }) => {
  const { page } = shell;
  await expect(shell.nav('hosts')).toContainText('Hosts');
  await page.getByTestId('locale-switch').click();
  await page.getByRole('menuitem', { name: '简体中文' }).click();
  await expect(shell.nav('hosts')).toContainText('主机');
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  expect((await server.api('settings.get')).body.locale).toBe('zh-CN');
  await page.reload();
  await expect(shell.nav('hosts')).toContainText('主机');
  await page.getByTestId('locale-switch').click();
  await page.getByRole('menuitem', { name: 'English' }).click();
  await expect(shell.nav('hosts')).toContainText('Hosts');
  await page.reload();
  await expect(shell.nav('hosts')).toContainText('Hosts');
});

test('theme switches to dark and back, and persists across a reload', async ({ shell, server }) => {
  const { page } = shell;
  const html = page.locator('html');
  const isDark = async () => (await html.getAttribute('class'))?.split(/\s+/).includes('dark') ?? false;
  const before = await isDark();
  await page.getByTestId('theme-switch').click();
  await expect.poll(isDark).toBe(!before);
  const stored = (await server.api('settings.get')).body.theme;
  expect(stored).toBe(before ? 'light' : 'dark');
  await page.reload();
  await expect(page.getByTestId('page-dashboard')).toBeVisible();
  await expect.poll(isDark).toBe(!before);
  // The page's real colours follow the theme, not just a class name.
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const [r, g, b] = bg.match(/\d+/g)!.map(Number);
  expect((r! + g! + b!) / 3 < 100).toBe(!before);
  await page.getByTestId('theme-switch').click();
  await expect.poll(isDark).toBe(before);
});
