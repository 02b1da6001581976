import { expect, test, type Page } from '@playwright/test';
import { startAliyunFake, type AliyunFake } from '../scripts/peers/clouds/aliyun/fake.mjs';
import { startTencentFake, type TencentFake } from '../scripts/peers/clouds/tencent/fake.mjs';
import { startAzureFake, type AzureFake } from '../scripts/peers/clouds/azure/azure-fake.mjs';
import { parsePpm, startQemuVnc, type QemuVnc } from '../scripts/peers/qemu-vnc.mjs';
import { removeDir, startServer, type ServerHandle } from './server';

/**
 * The add-account dialog of Alibaba Cloud, Tencent Cloud and Azure against their loopback fakes (the real SDKs in the
 * server, every signature or token verified): wrong credentials refused with the cloud's own code, a good account
 * added with a tag → project mapping and synced, its instances in Guests with the provider column; and an Alibaba
 * Cloud instance's own VNC console (DescribeInstanceVncUrl's one-time URL, relayed by the fake to a real QEMU VNC
 * server with a VNC password) drawn in the console view and compared with QEMU's framebuffer.
 * The headless server trusts Azure's test CA through NODE_EXTRA_CA_CERTS, as the Azure driver reads it for an endpoint.
 */
const VNC_PASSWORD = 'ali123';
let server: ServerHandle;
let ali: AliyunFake;
let tc: TencentFake;
let az: AzureFake;
let qemu: QemuVnc;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  qemu = await startQemuVnc({ password: VNC_PASSWORD });
  [ali, tc, az] = await Promise.all([
    startAliyunFake({ instances: 12, regions: 1, vnc: { host: qemu.host, port: qemu.port } }),
    startTencentFake({ instances: 10, regions: 1 }),
    startAzureFake({ vms: 16, lroPolls: 1 }),
  ]);
  server = await startServer({ env: { NODE_EXTRA_CA_CERTS: az.caFile } });
});
test.afterAll(async () => {
  await Promise.all([server?.stop(), ali?.close(), tc?.close(), az?.close()]);
  await qemu?.stop();
  if (server) removeDir(server.dataDir);
});

// eslint-disable-next-line no-empty-pattern
test.afterEach(async ({}, info) => {
  if (info.status !== info.expectedStatus) console.log(`server log (tail):\n${server.output().slice(-4000)}`);
});

async function open(page: Page, path: string): Promise<void> {
  await page.goto(server.url);
  await expect(page.getByTestId('page-dashboard')).toBeVisible();
  await page.goto(server.origin + path);
}

/** Opens the add dialog and fills it for a provider; validates. */
async function fill(page: Page, provider: string, name: string, creds: Record<string, string>, endpoint: string): Promise<void> {
  await open(page, '/cloud-accounts');
  await expect(page.getByTestId('page-cloud-accounts')).toBeVisible();
  await page.getByTestId('add-cloud').click();
  const dialog = page.getByTestId('add-cloud-dialog');
  await expect(dialog).toBeVisible();
  await page.getByTestId(`cloud-provider-${provider}`).click();
  await page.getByTestId('cloud-name').fill(name);
  for (const [k, v] of Object.entries(creds)) await page.getByTestId(`cloud-cred-${k}`).fill(v);
  await dialog.getByText('Advanced').click();
  await page.getByTestId('cloud-endpoint').fill(endpoint);
  await page.getByTestId('cloud-validate').click();
}

const CASES = [
  {
    provider: 'aliyun',
    label: 'Alibaba Cloud',
    name: 'e2e-ali',
    good: () => ({ accessKeyId: ali.accessKeyId, accessKeySecret: ali.accessKeySecret }),
    bad: () => ({ accessKeyId: ali.accessKeyId, accessKeySecret: 'not-the-secret' }),
    code: 'SignatureDoesNotMatch',
    endpoint: () => ali.url,
    count: 12,
  },
  {
    provider: 'tencent',
    label: 'Tencent Cloud',
    name: 'e2e-tc',
    good: () => ({ secretId: tc.secretId, secretKey: tc.secretKey }),
    bad: () => ({ secretId: tc.secretId, secretKey: 'not-the-secret' }),
    code: 'AuthFailure.SignatureFailure',
    endpoint: () => tc.url,
    count: 10,
  },
  {
    provider: 'azure',
    label: 'Azure',
    name: 'e2e-az',
    good: () => ({ tenantId: az.tenantId, clientId: az.clientId, clientSecret: az.clientSecret, subscriptionId: az.subscriptionId }),
    bad: () => ({ tenantId: az.tenantId, clientId: az.clientId, clientSecret: 'not-the-secret', subscriptionId: az.subscriptionId }),
    code: 'AADSTS7000215',
    endpoint: () => az.endpoint,
    count: 0,
  },
] as const;

for (const c of CASES) {
  test(`${c.label}: wrong credentials are refused with the cloud's code; a good account is added with a tag → project mapping, synced, and listed in Guests`, async ({ page }) => {
    test.setTimeout(90_000);
    const project = await server.api<any>('projects.create', { name: `${c.name}-dev` });
    expect(project.status, JSON.stringify(project.body)).toBe(200);

    await fill(page, c.provider, c.name, c.bad(), c.endpoint());
    await expect(page.getByTestId('cloud-add-error')).toContainText(c.code, { timeout: 30_000 });
    await expect(page.getByTestId('cloud-add-submit')).toBeDisabled();
    expect((await server.api<any>('clouds.accounts', {})).body.items.some((a: any) => a.account.name === c.name)).toBe(false);

    for (const [k, v] of Object.entries(c.good())) await page.getByTestId(`cloud-cred-${k}`).fill(v);
    await page.getByTestId('cloud-validate').click();
    await expect(page.getByTestId('cloud-valid')).toBeVisible({ timeout: 30_000 });
    // Every instance of the account lands in the project by default (the mapping, offered at add time).
    await page.getByTestId('mapping-default-project').click();
    await page.locator('.el-select-dropdown__item:visible', { hasText: `${c.name}-dev` }).click();
    await page.getByTestId('cloud-add-submit').click();
    await expect(page.getByTestId('add-cloud-dialog')).toBeHidden();

    await expect(page.getByTestId(`cloud-account-${c.name}`)).toBeVisible();
    const account = (await server.api<any>('clouds.accounts', {})).body.items.find((a: any) => a.account.name === c.name);
    expect(account.projectMapping).toMatchObject({ defaultProjectId: project.body.id });
    await expect.poll(async () => (await server.api<any>('clouds.account', { id: account.account.id })).body.guests, { timeout: 30_000 }).toBeGreaterThan(0);
    const guests = (await server.api<any>('clouds.account', { id: account.account.id })).body.guests as number;
    if (c.count) expect(guests).toBe(c.count);
    await expect(page.getByTestId(`cloud-guests-${c.name}`)).toHaveText(String(guests), { timeout: 20_000 });
    const listed = await server.api<any>('guests.list', { filter: [`provider:${c.provider}`], limit: 100 });
    expect(listed.body.items.every((g: any) => g.projectId === project.body.id)).toBe(true);

    await page.getByTestId(`cloud-guests-${c.name}`).click();
    await expect(page.getByTestId('page-guests')).toBeVisible();
    const list = page.getByTestId('resource-list-guests');
    await expect(list).toHaveAttribute('data-loading', 'false');
    await expect(list).toHaveAttribute('data-total', String(guests));
    const row = list.locator('[data-testid^="row-guests-"]').first();
    await expect(row).toContainText(c.label);
  });
}

test("an Alibaba Cloud instance's own VNC console: the password prompt, then the canvas equals QEMU's framebuffer", async ({ page }) => {
  test.setTimeout(90_000);
  const listed = await server.api<any>('guests.list', { filter: ['provider:aliyun', 'status:running'], limit: 1 });
  const g = listed.body.items[0];
  expect(g, 'a running Alibaba Cloud guest').toBeTruthy();
  await open(page, `/guests?open=${g.id}`);
  await expect(page.getByTestId('cloud-guest-ops')).toBeVisible();
  await page.getByTestId('cloud-guest-console').click();
  // The instance's VNC server asks for its VNC password: noVNC's credentialsrequired, answered in the prompt.
  await expect(page.getByTestId('vnc-password')).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('vnc-password').fill(VNC_PASSWORD);
  await page.getByTestId('vnc-password-submit').click();
  const vnc = page.getByTestId('vnc-console');
  await expect(vnc).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
  expect(ali.vnc.stats.relayed).toBeGreaterThanOrEqual(1);

  // SeaBIOS's "No bootable device" screen is still: the canvas must equal QEMU's framebuffer.
  await page.waitForTimeout(1500);
  const ppm = parsePpm(await qemu.screendump());
  const cmp = await page.evaluate(
    ({ w, h, b64 }) => {
      const rgb = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const canvas = document.querySelector('[data-testid=vnc-screen] canvas') as HTMLCanvasElement;
      const img = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let differ = 0;
      let lit = 0;
      for (let i = 0; i < w * h; i++) {
        const r = rgb[i * 3]!, gg = rgb[i * 3 + 1]!, b = rgb[i * 3 + 2]!;
        if (r + gg + b > 150) lit++;
        if (Math.max(Math.abs(r - img[i * 4]!), Math.abs(gg - img[i * 4 + 1]!), Math.abs(b - img[i * 4 + 2]!)) > 48) differ++;
      }
      return { cw: canvas.width, ch: canvas.height, differ, lit, total: w * h };
    },
    { w: ppm.width, h: ppm.height, b64: ppm.rgb.toString('base64') },
  );
  console.log('cloud VNC canvas vs QMP screendump:', JSON.stringify(cmp));
  expect({ w: cmp.cw, h: cmp.ch }).toEqual({ w: ppm.width, h: ppm.height });
  expect(cmp.lit).toBeGreaterThan(cmp.total * 0.002);
  expect(cmp.differ).toBeLessThan(cmp.total * 0.005);
  // The provider's one-time URL never reached the page.
  expect(await page.content()).not.toMatch(/\/websocket\/\?s=/);
});
