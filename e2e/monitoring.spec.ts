import { startSshHosts, type SshHost, type SshHosts } from '../scripts/peers/ssh-hosts.mjs';
import { expect, testWithOwnServer, type Shell } from './fixtures';

/** Its own server: this file adds a real KVM host, which other specs sharing a worker must not see. */
const test = testWithOwnServer();

/**
 * Monitoring in Chromium against a real sshd host in a network namespace running the real agent (libvirt's test driver
 * behind it): the host's charts fill from collected samples, the range picks its resolution, the Monitoring page ranks
 * hosts and draws the fleet heat map, and the charts still draw from stored history once the host is gone.
 */

let peers: SshHosts;
let H: SshHost;
let hostId = '';

test.beforeAll(async () => {
  peers = await startSshHosts({ count: 1, prefix: `skdn${process.pid % 100000}` });
  H = peers.hosts[0]!;
});
test.afterAll(async () => {
  await peers?.stop();
});

/** The host's detail, Monitoring tab, through the app's own navigation. */
async function openHost(shell: Shell): Promise<void> {
  await shell.open('hosts');
  await shell.page.getByTestId('resource-list-hosts').locator('[data-testid^="row-hosts-"][data-name="mon-e2e"]').click();
  await shell.page.getByTestId('host-tab-monitoring').click();
}

test.describe.serial('monitoring a KVM host', () => {
  test('the host’s charts fill from the agent’s samples; the range picks the resolution', async ({ page, shell, server }) => {
    test.setTimeout(150_000);
    await server.api('settings.set', { patch: { metricsIntervalSeconds: 1 } });
    const key = (await server.api('hosts.probeKey', { address: H.address, port: H.port })).body as { fingerprint: string };
    const added = (await server.api('hosts.add', { name: 'mon-e2e', address: H.address, port: H.port, username: H.users.test.username, auth: { method: 'password', password: H.users.test.password }, hostKeyFingerprint: key.fingerprint, libvirtUri: 'test:///default' })).body as { host: { id: string }; taskId: string };
    hostId = added.host.id;
    await expect.poll(async () => ((await server.api('tasks.get', { id: added.taskId })).body as { status: string }).status, { timeout: 120_000 }).toBe('succeeded');
    await expect
      .poll(async () => Object.keys(((await server.api('monitoring.latest', { kind: 'host', id: hostId })).body as { values: Record<string, unknown> }).values).length, { timeout: 30_000 })
      .toBeGreaterThan(5);

    await openHost(shell);
    const cpu = page.getByTestId('metric-chart-cpu');
    await expect(cpu.locator('canvas')).toBeVisible();
    await expect(page.getByTestId('metric-resolution')).toHaveText('Raw samples');
    // Live mode: the number of points grows while the page is open.
    const before = Number(await cpu.getAttribute('data-points'));
    expect(before).toBeGreaterThan(0);
    await expect.poll(async () => Number(await cpu.getAttribute('data-points')), { timeout: 20_000 }).toBeGreaterThan(before);
    for (const c of ['memory', 'disk', 'network']) await expect(page.getByTestId(`metric-chart-${c}`).locator('canvas')).toBeVisible();
    await page.getByTestId('metric-range-24h').click();
    await expect(page.getByTestId('metric-resolution')).toHaveText('1-minute averages');
    await page.getByTestId('metric-range-30d').click();
    await expect(page.getByTestId('metric-resolution')).toHaveText('1-hour averages');
    await expect(cpu.locator('canvas')).toBeVisible();
  });

  test('the Monitoring page ranks hosts, draws the heat map and shows each agent’s collection', async ({ page, shell }) => {
    await shell.open('monitoring');
    await expect(page.getByTestId('heat-mon-e2e')).toBeVisible();
    await expect(page.getByTestId('heat-mon-e2e')).toContainText('%');
    await expect(page.getByTestId('top-host-mon-e2e')).toBeVisible();
    await expect(page.getByTestId('source-dropped-mon-e2e')).toHaveText('0');
    await expect(page.getByTestId('monitoring-interval').locator('input')).toHaveValue('1');
  });

  test('an alert rule made in the Alerts page refuses a wrong unit, then fires on the host’s real memory use', async ({ page, shell }) => {
    test.setTimeout(60_000);
    await shell.open('alerts');
    await page.getByTestId('alerts-tabs').getByText('Rules').click();
    await page.getByTestId('alert-rule-new').click();
    await page.getByTestId('alert-rule-name').fill('Memory in use');
    await page.getByTestId('alert-rule-metric').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: /^Memory use \(%\)$/ }).click();
    await page.getByTestId('alert-rule-threshold').locator('input').fill('150');
    await page.getByTestId('alert-rule-duration').locator('input').fill('0');
    await page.getByTestId('alert-rule-save').click();
    await expect(page.locator('.el-dialog .el-form-item__error')).toContainText('percentage');
    await page.getByTestId('alert-rule-threshold').locator('input').fill('1');
    await page.getByTestId('alert-rule-save').click();
    await expect(page.getByTestId('alert-rule-save')).toBeHidden();
    await expect(page.getByTestId('alert-rule-Memory in use')).toBeVisible();
    await page.getByTestId('alerts-tabs').getByText('Alerts', { exact: true }).click();
    await expect(page.getByTestId('alerts-table')).toContainText('Memory in use: mon-e2e mem.util', { timeout: 20_000 });
    await expect(page.getByTestId('alerts-table')).toContainText('Firing');
    await expect(page.getByTestId('alerts-table')).toContainText('Desktop: sent');
  });

  test('charts draw from stored history with the host gone', async ({ page, shell, server }) => {
    await peers.stop();
    await expect.poll(async () => ((await server.api('hosts.get', { id: hostId })).body as { status: string }).status, { timeout: 60_000 }).not.toBe('online');
    await openHost(shell);
    await expect(page.getByTestId('metric-chart-cpu').locator('canvas')).toBeVisible();
    expect(Number(await page.getByTestId('metric-chart-cpu').getAttribute('data-points'))).toBeGreaterThan(3);
  });
});
