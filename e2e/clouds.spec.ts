import { expect, test, type Page } from '@playwright/test';
import { startAwsFake, type AwsFake } from '../scripts/peers/clouds/aws/fake.mjs';
import { removeDir, startServer, type ServerHandle } from './server';

/**
 * Public clouds in the UI: an AWS account added through the dialog with its endpoint pointed at the loopback EC2 fake
 * (the real @aws-sdk/client-ec2 in the server, every signature verified by the fake), its health, regions and guests,
 * its instances in the common Guests list with their provider, a stop from the Guests list, and wrong credentials
 * refused with the cloud's own code.
 */
const INSTANCES = 40;
let server: ServerHandle;
let fake: AwsFake;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  [server, fake] = await Promise.all([startServer(), startAwsFake({ defaultInstances: INSTANCES, namePrefix: 'e2e' })]);
});
test.afterAll(async () => {
  await Promise.all([server?.stop(), fake?.close()]);
  if (server) removeDir(server.dataDir);
});

async function open(page: Page, path: string): Promise<void> {
  await page.goto(server.url);
  await expect(page.getByTestId('page-dashboard')).toBeVisible();
  await page.goto(server.origin + path);
}

async function fillDialog(page: Page, secret: string): Promise<void> {
  const dialog = page.getByTestId('add-cloud-dialog');
  await expect(dialog).toBeVisible();
  await page.getByTestId('cloud-provider-aws').click();
  await page.getByTestId('cloud-name').fill('e2e-aws');
  await page.getByTestId('cloud-cred-accessKeyId').fill(fake.accessKeyId);
  await page.getByTestId('cloud-cred-secretAccessKey').fill(secret);
  await dialog.getByText('Advanced').click();
  await page.getByTestId('cloud-endpoint').fill(fake.endpoint);
  await page.getByTestId('cloud-validate').click();
}

test('wrong credentials are refused in the dialog with the cloud’s code; nothing is added', async ({ page }) => {
  await open(page, '/cloud-accounts');
  await expect(page.getByTestId('empty-cloud-accounts')).toBeVisible();
  await page.getByTestId('add-cloud-empty').click();
  await fillDialog(page, 'not-the-secret');
  await expect(page.getByTestId('cloud-add-error')).toContainText('SignatureDoesNotMatch');
  await expect(page.getByTestId('cloud-add-submit')).toBeDisabled();
  expect(fake.stats.rejectedSignatures).toBeGreaterThan(0);
  const accounts = await server.api<any>('clouds.accounts', {});
  expect(accounts.body.items).toHaveLength(0);
});

test('adds an AWS account (endpoint = the fake), syncs it, and its instances appear in Guests', async ({ page }) => {
  await open(page, '/cloud-accounts');
  await page.getByTestId('add-cloud-empty').click();
  await fillDialog(page, fake.secretAccessKey);
  await expect(page.getByTestId('cloud-valid')).toBeVisible();
  await expect(page.getByTestId('cloud-region-us-east-1')).toBeVisible();
  await page.getByTestId('cloud-add-submit').click();
  await expect(page.getByTestId('add-cloud-dialog')).toBeHidden();

  await expect(page.getByTestId('cloud-account-e2e-aws')).toBeVisible();
  await expect(page.getByTestId('cloud-guests-e2e-aws')).toHaveText(String(INSTANCES), { timeout: 20_000 });
  await expect(page.getByTestId('cloud-health')).toHaveText('Healthy');
  await expect(page.getByTestId('cloud-region-status-us-east-1')).toHaveClass(/el-tag--success/);
  // The secret never comes back from the API.
  const accounts = await server.api<any>('clouds.accounts', {});
  expect(JSON.stringify(accounts.body)).not.toContain(fake.secretAccessKey);

  await page.getByTestId('cloud-guests-e2e-aws').click();
  await expect(page.getByTestId('page-guests')).toBeVisible();
  const list = page.getByTestId('resource-list-guests');
  await expect(list).toHaveAttribute('data-loading', 'false');
  await expect(list).toHaveAttribute('data-total', String(INSTANCES));
  const row = list.locator('[data-testid^="row-guests-"][data-name="e2e-00000"]');
  await expect(row).toBeVisible();
  await expect(row).toHaveAttribute('data-status', 'running');
  await expect(row).toContainText('AWS');
});

test('a cloud guest stops through the common guest actions (the fake’s instance is stopped)', async () => {
  const guests = await server.api<any>('guests.list', { filter: ['provider:aws'], q: 'e2e-00001' });
  const g = guests.body.items.find((x: any) => x.name === 'e2e-00001');
  expect(g.status).toBe('running');
  const caps = await server.api<any>('system.capabilities', {});
  expect(caps.body.providers.aws.guestActions).toEqual(expect.arrayContaining(['start', 'stop', 'reboot', 'delete']));
  const r = await server.api<any>('guests.action', { id: g.id, action: 'stop' });
  expect(r.status).toBe(200);
  await expect.poll(async () => (await server.api<any>('guests.get', { id: g.id })).body.status, { timeout: 15_000 }).toBe('ready');
  const cloudId = g.externalId.split('/').pop();
  expect(fake.region('us-east-1').instances.get(cloudId)!.state).toBe('stopped');
});

test('a stopped cloud guest changes its instance type from its detail panel (the driver offers resize)', async ({ page }) => {
  const guests = await server.api<any>('guests.list', { filter: ['provider:aws'], q: 'e2e-00001' });
  const g = guests.body.items.find((x: any) => x.name === 'e2e-00001');
  expect(g.status).toBe('ready');
  await open(page, `/guests?open=${g.id}`);
  const ops = page.getByTestId('cloud-guest-ops');
  await expect(ops).toBeVisible();
  await expect(page.getByTestId('cloud-instance-type')).toHaveValue(g.instanceType);
  // EC2 has no VNC console API: the driver does not declare `console`, so no console entry is offered.
  await expect(page.getByTestId('cloud-guest-console')).toHaveCount(0);
  await page.getByTestId('cloud-instance-type').fill('c5.2xlarge');
  await page.getByTestId('cloud-resize').click();
  await expect.poll(async () => (await server.api<any>('guests.get', { id: g.id })).body.instanceType, { timeout: 15_000 }).toBe('c5.2xlarge');
  expect(fake.region('us-east-1').instances.get(g.externalId.split('/').pop())!.type).toBe('c5.2xlarge');
});

test('an account’s credentials are replaced from its edit dialog only once the cloud accepts them', async ({ page }) => {
  await open(page, '/cloud-accounts');
  await page.getByTestId('cloud-account-e2e-aws').locator('xpath=ancestor::tr').getByRole('button', { name: 'Edit' }).click();
  const dialog = page.getByTestId('edit-cloud-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByText('Replace credentials').click();
  await page.getByTestId('edit-cred-accessKeyId').fill(fake.accessKeyId);
  await page.getByTestId('edit-cred-secretAccessKey').fill('still-not-the-secret');
  const rejected = fake.stats.rejectedSignatures;
  await page.getByTestId('edit-cred-submit').click();
  await expect(page.getByTestId('edit-cred-error')).toContainText('SignatureDoesNotMatch');
  expect(fake.stats.rejectedSignatures).toBeGreaterThan(rejected);
  // The stored credentials still work: a sync succeeds.
  const id = (await server.api<any>('clouds.accounts', {})).body.items[0].account.id as string;
  const sync = await server.api<any>('clouds.syncNow', { id });
  await expect.poll(async () => (await server.api<any>('tasks.get', { id: sync.body.taskId })).body.status, { timeout: 20_000 }).toBe('succeeded');

  await page.getByTestId('edit-cred-secretAccessKey').fill(fake.secretAccessKey);
  await page.getByTestId('edit-cred-submit').click();
  await expect(page.getByText('Credentials replaced')).toBeVisible();
  await expect(page.getByTestId('edit-cred-error')).toHaveCount(0);
  // Nothing secret comes back, and the audit log holds no secret either.
  const audit = await server.api<any>('audit.list', { limit: 20 });
  expect(JSON.stringify(audit.body)).not.toContain(fake.secretAccessKey);
  expect(JSON.stringify(audit.body)).not.toContain('still-not-the-secret');
});
