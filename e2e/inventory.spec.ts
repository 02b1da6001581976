import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { removeDir, startServer, type ServerHandle } from './server';

/**
 * The inventory UI against two real servers of its own (so nothing it creates shows up in another spec's empty states):
 * a writable one filled through the API, and one on a data directory filled by the seed CLI (read-only, imported).
 */
const ROOT = join(import.meta.dirname, '..');
const SEED = { hosts: 40, guests: 3000 };

let rw: ServerHandle;
let seeded: ServerHandle;
let seedDir: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  seedDir = mkdtempSync(join(tmpdir(), 'skydeck-e2e-seed-'));
  const r = spawnSync(process.execPath, [join(ROOT, 'out', 'main', 'seed.js'), '--hosts', String(SEED.hosts), '--guests', String(SEED.guests), '--data-dir', seedDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`seed failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  [rw, seeded] = await Promise.all([startServer(), startServer({ dataDir: seedDir })]);
});

test.afterAll(async () => {
  await Promise.all([rw?.stop(), seeded?.stop()]);
  if (rw) removeDir(rw.dataDir);
  removeDir(seedDir);
});

async function api<T = any>(s: ServerHandle, command: string, input: unknown = {}): Promise<T> {
  const res = await s.api<T>(command, input);
  if (res.status !== 200) throw new Error(`${command} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Opens the app with its token, then the given path. */
async function open(page: Page, s: ServerHandle, path: string): Promise<void> {
  await page.goto(s.url);
  await expect(page.getByTestId('page-dashboard')).toBeVisible();
  await page.goto(s.origin + path);
}

const list = (page: Page, kind: string): Locator => page.getByTestId(`resource-list-${kind}`);
const rowByName = (page: Page, kind: string, name: string): Locator => list(page, kind).locator(`[data-testid^="row-${kind}-"][data-name="${name}"]`);

async function expectTotal(page: Page, kind: string, n: number): Promise<void> {
  await expect(list(page, kind)).toHaveAttribute('data-loading', 'false');
  await expect(list(page, kind)).toHaveAttribute('data-total', String(n));
}

async function pick(page: Page, select: Locator, text: string): Promise<void> {
  await select.click();
  await page.locator('.el-select-dropdown__item:visible', { hasText: text }).first().click();
}

test.describe('writable inventory', () => {
  let zoneId: string;
  let wireName: string;

  test.beforeAll(async () => {
    const zone = await api(rw, 'zones.create', { name: 'e2e-zone' });
    zoneId = zone.id;
    wireName = 'e2e-wire';
    await api(rw, 'wires.create', { name: wireName, zoneId });
  });

  test('creates a network through the dialog and lists it', async ({ page }) => {
    await open(page, rw, '/networks');
    await expect(page.getByTestId('empty-networks')).toBeVisible();
    await page.getByTestId('create-networks').click();
    await page.getByTestId('network-name').fill('e2e-net');
    await pick(page, page.getByTestId('network-wire'), wireName);
    await page.getByTestId('network-cidr').fill('10.20.0.0/24');
    await page.getByTestId('network-gateway').fill('10.20.0.1');
    await page.getByTestId('network-vlan').locator('input').fill('120');
    await page.getByTestId('network-dns').fill('1.1.1.1, 8.8.8.8');
    await page.getByTestId('dialog-submit').click();
    await expect(page.getByTestId('create-network-dialog')).toBeHidden();
    // The new network opens in its drawer, and is in the list behind it.
    await expect(page.getByTestId('detail-networks')).toBeVisible();
    await expect(page.getByTestId('detail-name')).toHaveText('e2e-net');
    await page.keyboard.press('Escape');
    await expect(rowByName(page, 'networks', 'e2e-net')).toBeVisible();
    await expect(rowByName(page, 'networks', 'e2e-net')).toContainText('10.20.0.0/24');
    const nets = await api(rw, 'networks.list', { filter: ['name:e2e-net'] });
    expect(nets.items[0]).toMatchObject({ cidr: '10.20.0.0/24', gateway: '10.20.0.1', vlan: 120, dns: ['1.1.1.1', '8.8.8.8'] });
  });

  test('shows the server’s validation and conflict errors next to the field', async ({ page }) => {
    await open(page, rw, '/networks');
    await page.getByTestId('create-networks').click();
    await page.getByTestId('network-name').fill('e2e-net-2');
    await pick(page, page.getByTestId('network-wire'), wireName);
    await page.getByTestId('network-cidr').fill('10.20.0.0/33');
    await page.getByTestId('dialog-submit').click();
    await expect(page.getByTestId('field-error-cidr')).toContainText('CIDR');
    // Overlapping a network on the same wire is a conflict that names its field.
    await page.getByTestId('network-cidr').fill('10.20.0.128/25');
    await page.getByTestId('dialog-submit').click();
    await expect(page.getByTestId('field-error-cidr')).toContainText('overlaps e2e-net');
    await expect(page.getByTestId('create-network-dialog')).toBeVisible();
    // Fixed, it goes through.
    await page.getByTestId('network-cidr').fill('10.21.0.0/24');
    await page.getByTestId('dialog-submit').click();
    await expect(page.getByTestId('create-network-dialog')).toBeHidden();
    await expect(page.getByTestId('detail-name')).toHaveText('e2e-net-2');
  });

  test('allocates, reserves and releases addresses in the network drawer', async ({ page }) => {
    await open(page, rw, '/networks');
    await rowByName(page, 'networks', 'e2e-net').click();
    const drawer = page.getByTestId('detail-networks');
    await expect(drawer.getByTestId('network-ips')).toBeVisible();
    await drawer.getByTestId('ip-input').fill('10.20.0.50');
    await drawer.getByTestId('ip-note').fill('e2e');
    await drawer.getByTestId('ip-allocate').click();
    await expect(drawer.getByTestId('ip-row-10.20.0.50')).toBeVisible();
    // Without an address: the lowest free one (the gateway, .1, is reserved with the network).
    await expect(drawer.getByTestId('ip-row-10.20.0.1')).toBeVisible();
    await drawer.getByTestId('ip-allocate').click();
    await expect(drawer.getByTestId('ip-row-10.20.0.2')).toBeVisible();
    // The same address again is refused, next to the field.
    await drawer.getByTestId('ip-input').fill('10.20.0.50');
    await drawer.getByTestId('ip-reserve').click();
    await expect(drawer.getByTestId('field-error-ip')).toContainText('already');
    await drawer.getByTestId('ip-input').fill('10.20.0.60');
    await drawer.getByTestId('ip-reserve').click();
    await expect(drawer.getByTestId('ip-row-10.20.0.60')).toBeVisible();
    await drawer.getByTestId('ip-release-10.20.0.50').click();
    await expect(drawer.getByTestId('ip-row-10.20.0.50')).toBeHidden();
    const ips = await api(rw, 'networks.ips', { networkId: (await drawer.locator('.sd-detail-body').getAttribute('data-id'))! });
    expect(ips.items.map((i: { ip: string }) => i.ip).sort()).toEqual(['10.20.0.1', '10.20.0.2', '10.20.0.60']);
  });

  test('tags resources in bulk and filters the list by tag', async ({ page }) => {
    const ids: string[] = [];
    for (const name of ['tag-a', 'tag-b', 'tag-c']) ids.push((await api(rw, 'zones.create', { name })).id);
    await open(page, rw, '/networks?tab=zones');
    await expect(rowByName(page, 'zones', 'tag-a')).toBeVisible();
    await page.getByTestId(`select-zones-${ids[0]}`).click();
    await page.getByTestId(`select-zones-${ids[1]}`).click();
    await expect(page.getByTestId('bulk-bar')).toHaveAttribute('data-count', '2');
    await page.getByTestId('bulk-tag').click();
    await page.getByTestId('tag-key').fill('env');
    await page.getByTestId('tag-value').fill('prod');
    await page.getByTestId('dialog-submit').click();
    await expect(page.getByTestId('tag-dialog')).toBeHidden();
    await expect(page.getByTestId('bulk-bar')).toBeHidden();
    await page.getByTestId('tag-filter').fill('env=prod');
    await page.getByTestId('tag-filter').press('Enter');
    await expect(page.getByTestId('tag-chip-env=prod')).toBeVisible();
    await expectTotal(page, 'zones', 2);
    await expect(rowByName(page, 'zones', 'tag-a')).toBeVisible();
    await expect(rowByName(page, 'zones', 'tag-c')).toBeHidden();
    const tagged = await api(rw, 'zones.list', { filter: ['tag:env=prod'] });
    expect(tagged.items.map((z: { id: string }) => z.id).sort()).toEqual([ids[0], ids[1]].sort());

    // One resource's tags in its drawer: add one, remove one.
    await rowByName(page, 'zones', 'tag-a').click();
    const drawer = page.getByTestId('detail-zones');
    await expect(drawer.getByTestId('detail-tag-env')).toContainText('env=prod');
    await drawer.getByTestId('detail-tag-key').fill('owner');
    await drawer.getByTestId('detail-tag-value').fill('ops');
    await drawer.getByTestId('detail-tag-add').click();
    await expect(drawer.getByTestId('detail-tag-owner')).toContainText('owner=ops');
    await expect.poll(async () => (await api(rw, 'zones.get', { id: ids[0] })).tags.length).toBe(2);
    await drawer.getByTestId('detail-tag-owner').locator('.el-tag__close').click();
    await expect(drawer.getByTestId('detail-tag-owner')).toBeHidden();
    expect((await api(rw, 'zones.get', { id: ids[0] })).tags).toEqual([{ key: 'env', value: 'prod', source: 'user' }]);
    await page.keyboard.press('Escape');
  });

  test('saves a view (query and columns) and applies it again after a reload', async ({ page }) => {
    await open(page, rw, '/networks?tab=zones');
    await page.getByTestId('tag-filter').fill('env=prod');
    await page.getByTestId('tag-filter').press('Enter');
    await expectTotal(page, 'zones', 2);
    await page.getByTestId('column-chooser').click();
    await page.getByTestId('column-toggle-description').click();
    await page.keyboard.press('Escape');
    await expect(list(page, 'zones').getByTestId('col-description')).toBeHidden();
    await page.getByTestId('saved-views').click();
    await page.getByTestId('saved-view-save').click();
    await page.locator('.el-message-box input').fill('prod zones');
    await page.locator('.el-message-box .el-button--primary').click();
    await expect(page.getByTestId('saved-views')).toContainText('prod zones');

    // Back to the defaults, reload: nothing filters the list any more.
    await page.getByTestId('column-chooser').click();
    await page.getByTestId('column-reset').click();
    await page.keyboard.press('Escape');
    await page.reload();
    const all = (await api(rw, 'zones.list', {})).total as number;
    await expectTotal(page, 'zones', all);
    await expect(list(page, 'zones').getByTestId('col-description')).toBeVisible();

    await page.getByTestId('saved-views').click();
    await page.getByTestId('saved-view-prod zones').click();
    await expectTotal(page, 'zones', 2);
    await expect(page.getByTestId('tag-chip-env=prod')).toBeVisible();
    await expect(list(page, 'zones').getByTestId('col-description')).toBeHidden();
    const views = await api(rw, 'views.list', { kind: 'zones' });
    expect(views.items[0]).toMatchObject({ name: 'prod zones', query: { filter: ['tag:env=prod'] } });
  });

  test('stars rows, shows favourites only, and files them in folders', async ({ page }) => {
    const zones = (await api(rw, 'zones.list', { filter: ['name:tag-a,tag-b,tag-c'], sort: 'name' })).items as { id: string; name: string }[];
    const [a, b] = zones;
    await open(page, rw, '/networks?tab=zones');
    await page.getByTestId(`star-zones-${a!.id}`).click();
    await expect(page.getByTestId(`star-zones-${a!.id}`)).toHaveAttribute('data-on', 'true');
    await page.getByTestId('favorites-only').click();
    await expectTotal(page, 'zones', 1);
    await expect(rowByName(page, 'zones', 'tag-a')).toBeVisible();
    await page.getByTestId('favorites-only').click();
    await expect(rowByName(page, 'zones', 'tag-b')).toBeVisible();

    // Into a folder through the bulk bar; the folder picker then narrows to it.
    await page.getByTestId(`select-zones-${b!.id}`).click();
    await page.getByTestId('bulk-folder').click();
    await page.getByTestId('folder-input').click();
    await page.keyboard.type('team/web');
    await page.keyboard.press('Enter');
    await page.getByTestId('folder-dialog').getByText('team/web').first().waitFor();
    await page.getByTestId('dialog-submit').click();
    await expect(page.getByTestId('folder-dialog')).toBeHidden();
    await expect(page.getByTestId(`star-zones-${b!.id}`)).toHaveAttribute('data-on', 'true');
    await pick(page, page.getByTestId('folder-picker'), 'web');
    await expectTotal(page, 'zones', 1);
    await expect(rowByName(page, 'zones', 'tag-b')).toBeVisible();
    const favs = await api(rw, 'favorites.list', { kind: 'zones' });
    expect(favs.folders).toEqual([{ folder: 'team/web', count: 1 }]);
  });

  test('creates a project with quotas and shows its usage bars', async ({ page }) => {
    await open(page, rw, '/projects');
    await expect(page.getByTestId('empty-projects')).toBeVisible();
    await page.getByTestId('create-projects').click();
    await page.getByTestId('project-name').fill('e2e-project');
    await page.getByTestId('project-quota-guests').locator('input').fill('10');
    await page.getByTestId('dialog-submit').click();
    await rowByName(page, 'projects', 'e2e-project').click();
    await expect(page.getByTestId('detail-projects').getByTestId('quota-guests')).toContainText('0 / 10');
    await page.getByTestId('quota-unlimited-vcpu').click();
    await page.getByTestId('quota-input-vcpu').locator('input').fill('64');
    await page.getByTestId('quota-save').click();
    await expect(page.getByTestId('detail-projects').getByTestId('quota-vcpu')).toContainText('0 / 64');
  });
});

test.describe('seeded, read-only inventory', () => {
  test('says the inventory is imported and read-only, and why guest actions are disabled', async ({ page }) => {
    await open(page, seeded, '/dashboard');
    await expect(page.getByTestId('readonly-banner')).toContainText('read-only');
    await expect(page.getByTestId('inv-count-guests')).toContainText(SEED.guests.toLocaleString('en-US'));
    await page.getByTestId('nav-guests').click();
    await expect(page.getByTestId('readonly-banner')).toBeVisible();
    await list(page, 'guests').locator('[data-testid^="row-guests-"]').first().click();
    const drawer = page.getByTestId('detail-guests');
    await expect(drawer.getByTestId('guest-action-start')).toBeDisabled();
    await expect(drawer.getByTestId('guest-action-start-wrap')).toHaveAttribute('data-reason', /Read-only imported inventory/);
    await drawer.getByTestId('guest-action-reboot-wrap').hover();
    await expect(page.locator('.sd-reason-tip:visible')).toContainText('Read-only imported inventory');
    await expect(drawer.getByTestId('detail-tags')).toContainText('cannot be changed');
    await page.keyboard.press('Escape');

    // In bulk too: every lifecycle action and tagging are disabled, each saying why.
    await page.getByTestId('select-visible').click();
    await expect(page.getByTestId('bulk-bar')).toBeVisible();
    for (const action of ['start', 'stop', 'reboot', 'suspend', 'resume', 'delete']) {
      await expect(page.getByTestId(`bulk-${action}`)).toBeDisabled();
      await expect(page.getByTestId(`bulk-${action}-wrap`)).toHaveAttribute('data-reason', /.+/);
    }
    await expect(page.getByTestId('bulk-tag')).toBeDisabled();
    // Favourites still work on read-only rows: they are the user's own data.
    await page.getByTestId('bulk-favorite').click();
    await page.getByTestId('favorites-only').click();
    await expect(list(page, 'guests')).toHaveAttribute('data-loading', 'false');
    expect(Number(await list(page, 'guests').getAttribute('data-total'))).toBeGreaterThan(5);
  });

  test('marks stale rows (an unreachable host and its guests)', async ({ page }) => {
    const stale = await api(seeded, 'guests.list', { filter: ['stale:1'], limit: 1 });
    expect(stale.total, 'the seed marks at least one host unreachable').toBeGreaterThan(0);
    await open(page, seeded, '/guests?filter=stale:1');
    await expectTotal(page, 'guests', stale.total);
    await expect(page.getByTestId(`stale-guests-${stale.items[0].id}`)).toBeVisible();
    await expect(page.getByTestId('last-synced')).toContainText('stale');
    await page.getByTestId(`row-guests-${stale.items[0].id}`).click();
    await expect(page.getByTestId('detail-stale')).toContainText('last-known state');
  });

  test('the guest list stays virtual at thousands of rows, scrolls to the end and sorts on the server', async ({ page }) => {
    await open(page, seeded, '/guests');
    await expectTotal(page, 'guests', SEED.guests);
    const rows = list(page, 'guests').locator('[data-testid^="row-guests-"]');
    await expect(rows.first()).toBeVisible();
    expect(await rows.count()).toBeLessThan(60);

    // Scroll to the very end: the last page is fetched on demand and the last row shows.
    const last = (await api(seeded, 'guests.list', { sort: '-name', limit: 1 })).items[0];
    const body = list(page, 'guests').locator('.el-table-v2__main .el-table-v2__body > div').first();
    await body.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
      el.dispatchEvent(new Event('scroll'));
    });
    await expect(page.getByTestId(`row-guests-${last.id}`)).toBeVisible();
    expect(await rows.count()).toBeLessThan(60);

    // Sort by vCPUs (server side): ascending, then descending.
    const asc = (await api(seeded, 'guests.list', { sort: 'vcpu', limit: 1 })).items[0];
    const desc = (await api(seeded, 'guests.list', { sort: '-vcpu', limit: 1 })).items[0];
    await list(page, 'guests').getByTestId('col-vcpu').click();
    await expect(rows.first()).toHaveAttribute('data-testid', `row-guests-${asc.id}`);
    await list(page, 'guests').getByTestId('col-vcpu').click();
    await expect(rows.first()).toHaveAttribute('data-testid', `row-guests-${desc.id}`);
  });
});
