import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAzureFake, type AzureFake } from '../../../scripts/peers/clouds/azure/azure-fake.mjs';
import { testServer } from '../../test/helpers';
import { toApiError } from '../retry';
import { CloudError } from '../types';
import { azureDriver, azureTuning } from '.';
import { AZURE_STATUS, azureError } from './session';

/**
 * Azure: the real @azure/identity + @azure/arm-compute + @azure/arm-network against the loopback Entra ID + ARM fake
 * (HTTPS with a test CA, RS256 tokens verified on every request), through Skydeck's API: accounts, sync, operations.
 * The test CA is trusted through NODE_EXTRA_CA_CERTS, which the driver reads at connect for an endpoint override.
 */

const savedCa = process.env.NODE_EXTRA_CA_CERTS;
const savedPoll = azureTuning.pollIntervalMs;
beforeAll(() => {
  azureTuning.pollIntervalMs = 10;
});
afterAll(() => {
  azureTuning.pollIntervalMs = savedPoll;
  if (savedCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = savedCa;
});

const startFake = async (o: Parameters<typeof startAzureFake>[0] = {}) => {
  const az = await startAzureFake({ lroPolls: 1, ...o });
  process.env.NODE_EXTRA_CA_CERTS = az.caFile;
  return az;
};
const credsOf = (az: AzureFake, secret = az.clientSecret) => ({ tenantId: az.tenantId, clientId: az.clientId, clientSecret: secret, subscriptionId: az.subscriptionId });
const locationOf = (az: AzureFake, id: string) => String(az.resource(id)?.location);
const listAllCalls = (az: AzureFake) => az.requests.filter((r) => /\/providers\/Microsoft\.Compute\/virtualMachines$/i.test(r.path) && r.method === 'GET').length;

describe('error mapping', () => {
  it('keeps ARM and Entra codes; AADSTS → credentials, AuthorizationFailed → permission, SkuNotAvailable/quota → conflict', () => {
    const aad = azureError(Object.assign(new Error('x'), { name: 'AuthenticationError', statusCode: 401, errorResponse: { error: 'invalid_client', errorDescription: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2', errorCodes: [7000215] } })) as CloudError;
    expect(aad).toMatchObject({ cloudCode: 'AADSTS7000215', message: 'Invalid client secret provided.', httpStatus: 401 });
    expect(toApiError(aad)).toMatchObject({ code: 'forbidden', details: { reason: 'credentials' } });
    const throttled = azureError(Object.assign(new Error('slow'), { code: 'TooManyRequests', statusCode: 429, response: { status: 429, headers: { get: (n: string) => (n === 'retry-after' ? '7' : undefined) } } })) as CloudError;
    expect(throttled).toMatchObject({ cloudCode: 'TooManyRequests', httpStatus: 429, retryAfterSeconds: 7 });
    expect(toApiError(new CloudError('azure', 'AuthorizationFailed', 'no', 403))).toMatchObject({ code: 'forbidden', details: { reason: 'permission' } });
    expect(toApiError(new CloudError('azure', 'InvalidAuthenticationToken', 'bad', 401))).toMatchObject({ code: 'forbidden', details: { reason: 'credentials' } });
    expect(toApiError(new CloudError('azure', 'SkuNotAvailable', 'no', 409))).toMatchObject({ code: 'conflict', details: { reason: 'SkuNotAvailable' } });
    expect(toApiError(new CloudError('azure', 'OperationNotAllowed', 'quota', 409))).toMatchObject({ code: 'conflict' });
    expect(toApiError(new CloudError('azure', 'AADSTS90055', 'throttled', 429))).toMatchObject({ code: 'rate_limited' });
  });
});

describe('the Azure SDK against the fake', () => {
  let az: AzureFake;
  afterEach(async () => az?.close());

  it('validates, lists locations and zones, and pages every VM over nextLink with its power state (one listing shared by all regions)', async () => {
    az = await startFake({ vms: 2500 });
    const s = await azureDriver.connect({ accountId: 'a', provider: 'azure', endpoint: az.endpoint, credentials: credsOf(az) });
    expect((await s.validate()).account).toContain(az.subscriptionId);
    const regions = (await s.listRegions()).map((r) => r.name);
    expect(regions).toHaveLength(8);
    expect((await s.listZones('eastus')).map((z) => z.name)).toEqual(['eastus-1', 'eastus-2', 'eastus-3']);
    expect(await s.listZones('westcentralus')).toEqual([]);
    let n = 0;
    let pages = 0;
    for (const region of regions) {
      let token: string | null = null;
      do {
        const p = await s.listInstances(region, token);
        for (const i of p.items) {
          expect(i.status).toBe(AZURE_STATUS[az.powerState(i.id)!]);
          expect(locationOf(az, i.id)).toBe(region);
        }
        n += p.items.length;
        pages++;
        token = p.next;
      } while (token);
    }
    expect(n).toBe(2500);
    expect(pages).toBe(8 * 3);
    expect(listAllCalls(az)).toBe(3);
    expect(az.tokensIssued).toBe(1);
    s.close();
  }, 60_000);

  it('wrong secret → AADSTS7000215 (invalid_client); unknown subscription → ARM code', async () => {
    az = await startFake({ vms: 10 });
    const bad = await azureDriver.connect({ accountId: 'a', provider: 'azure', endpoint: az.endpoint, credentials: credsOf(az, 'wrong~secret') });
    await expect(bad.validate()).rejects.toMatchObject({ cloudCode: 'AADSTS7000215', httpStatus: 401 });
    const other = await azureDriver.connect({ accountId: 'a', provider: 'azure', endpoint: az.endpoint, credentials: { ...credsOf(az), subscriptionId: '99999999-9999-4999-8999-999999999999' } });
    await expect(other.validate()).rejects.toMatchObject({ httpStatus: expect.any(Number) });
  });
});

type T = Awaited<ReturnType<typeof testServer>>;
describe('Azure accounts through the API', () => {
  let t: T;
  let az: AzureFake;
  afterEach(async () => {
    await t?.close();
    await az?.close();
  });
  const add = async (regions = ['eastus', 'westeurope']) => {
    const r = await t.call('clouds.add', { name: 'azure-prod', credentials: { provider: 'azure', ...credsOf(az) }, endpoint: az.endpoint, regions });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await t.core.engine.waitFor(r.body.taskId);
    return { id: r.body.account.account.id as string, task };
  };
  const guestsOf = (id: string) => t.core.db.prepare('SELECT * FROM guests WHERE cloud_account_id = ? ORDER BY name').all(id) as Record<string, any>[];
  const vmsIn = (regions: string[]) => az.vmIds().filter((v) => regions.includes(locationOf(az, v)));
  const cloudIdOf = (g: Record<string, any>) => String(g.external_id).split('/').slice(2).join('/');

  it('adds an account, syncs every kind over nextLink pages, and re-syncs a changed and a vanished VM', async () => {
    az = await startFake({ vms: 48, pageSize: 7 });
    t = await testServer();
    const { id, task } = await add();
    expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc).toMatchObject({ provider: 'azure', endpoint: az.endpoint, credentialHint: `${az.clientId} @ ${az.subscriptionId}` });
    expect(acc.account).toMatchObject({ health: 'ok', regions: ['eastus', 'westeurope'] });
    const expected = vmsIn(['eastus', 'westeurope']);
    expect(guestsOf(id)).toHaveLength(expected.length);
    expect(listAllCalls(az)).toBe(Math.ceil(48 / 7));
    const count = (table: string) => (t.core.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE provider = 'azure'`).get() as { n: number }).n;
    // 2 regions; 3 zones each; a VNet with 2 subnets and an NSG per region; per region 3 spare disks, 2 snapshots, 1 image.
    expect([count('regions'), count('zones'), count('wires'), count('networks'), count('security_groups')]).toEqual([2, 6, 2, 4, 2]);
    expect(count('disks')).toBeGreaterThanOrEqual(expected.length + 6);
    expect([count('snapshots'), count('images')]).toEqual([4, 2]);
    expect(count('eips')).toBeGreaterThan(0);
    // The two SSH public keys live in rg-shared (eastus).
    expect(count('keypairs')).toBe(2);
    expect(t.core.db.prepare(`SELECT fingerprint FROM keypairs WHERE provider = 'azure' LIMIT 1`).get()).toEqual({ fingerprint: expect.stringMatching(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/) });
    expect((t.core.db.prepare(`SELECT count(*) AS n FROM security_group_rules r JOIN security_groups g ON g.id = r.group_id WHERE g.provider = 'azure'`).get() as { n: number }).n).toBeGreaterThan(0);

    // Each guest: status from the power state, size → vCPU/memory, zone, NIC on its subnet, tags kept.
    for (const g of guestsOf(id)) expect(g.status).toBe(AZURE_STATUS[az.powerState(cloudIdOf(g))!]);
    const g = guestsOf(id).find((x) => x.status === 'running')!;
    const vm = az.resource(cloudIdOf(g));
    expect(g.instance_type).toBe(vm.properties.hardwareProfile.vmSize);
    expect(g.vcpu).toBeGreaterThan(0);
    expect(g.memory_mb).toBeGreaterThan(0);
    const nic = t.core.db.prepare('SELECT mac, ip, network_id FROM guest_nics WHERE guest_id = ?').get(g.id) as { mac: string; ip: string; network_id: string };
    expect(nic.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(nic.network_id).toBeTruthy();
    const tags = t.core.db.prepare(`SELECT key, value FROM tags WHERE kind = 'guest' AND resource_id = ? AND source = 'provider' ORDER BY key`).all(g.id) as { key: string; value: string }[];
    expect(Object.fromEntries(tags.map((x) => [x.key, x.value]))).toEqual(vm.tags);
    const disk = t.core.db.prepare('SELECT * FROM disks WHERE guest_id = ? AND bootable = 1').get(g.id) as Record<string, any>;
    expect(disk).toBeTruthy();
    expect((await t.call('guests.list', { filter: ['provider:azure'], limit: 5 })).body.total).toBe(expected.length);

    // No secret in the audit log or the logs.
    expect(JSON.stringify(t.core.db.prepare('SELECT * FROM audit_log').all())).not.toContain(az.clientSecret);
    expect(t.lines.join('\n')).not.toContain(az.clientSecret);

    // Out of band: one VM resized and retagged, one deleted (through ARM, not Skydeck).
    vm.properties.hardwareProfile.vmSize = 'Standard_D8s_v5';
    vm.tags = { ...vm.tags, env: 'staging' };
    const gone = guestsOf(id).find((x) => x.id !== g.id && x.status === 'ready')!;
    const { ComputeManagementClient } = await import('@azure/arm-compute');
    const { ClientSecretCredential } = await import('@azure/identity');
    const tlsOptions = { ca: az.caPem };
    const credential = new ClientSecretCredential(az.tenantId, az.clientId, az.clientSecret, { authorityHost: az.authorityHost, disableInstanceDiscovery: true, tlsOptions });
    const compute = new ComputeManagementClient(credential, az.subscriptionId, { endpoint: az.endpoint, tlsOptions });
    const [, , , , rg = '', , , , name = ''] = cloudIdOf(gone).split('/');
    await compute.virtualMachines.delete(rg, name, { updateIntervalInMs: 5 });

    const s2 = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(s2.status, JSON.stringify(s2.error)).toBe('succeeded');
    const after = guestsOf(id);
    expect(after.find((x) => x.id === g.id)).toMatchObject({ instance_type: 'Standard_D8s_v5', vcpu: 8, memory_mb: 32768 });
    expect(t.core.db.prepare(`SELECT value FROM tags WHERE kind = 'guest' AND resource_id = ? AND key = 'env'`).get(g.id)).toEqual({ value: 'staging' });
    expect(after.find((x) => x.id === gone.id)).toMatchObject({ status: 'vanished' });
    const total = (s2.result as any).regions.reduce((a: number, r: any) => a + r.counts.instances.vanished, 0);
    expect(total).toBe(1);
  }, 60_000);

  it('retries throttling (429 + Retry-After) during a sync; a wrong secret is refused at add; an expired secret fails the sync with a clear error on the account', async () => {
    az = await startFake({ vms: 16 });
    t = await testServer();
    const wrong = await t.call('clouds.add', { name: 'x', credentials: { provider: 'azure', ...credsOf(az, 'Wrong~Secret-4f9a1c') }, endpoint: az.endpoint });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ code: 'forbidden', details: { cloudCode: 'AADSTS7000215', reason: 'credentials' } });
    expect(t.core.db.prepare('SELECT count(*) AS n FROM cloud_accounts').get()).toEqual({ n: 0 });
    expect(t.lines.join('\n')).not.toContain('Wrong~Secret-4f9a1c');

    const { id } = await add(['eastus']);
    const n = guestsOf(id).length;
    expect(n).toBe(vmsIn(['eastus']).length);
    const fault = az.inject({ kind: 'throttle', times: 2, retryAfterSec: 1, path: /Microsoft\.Compute\/virtualMachines$/i });
    az.inject({ kind: 'server', status: 503, times: 1, path: /Microsoft\.Compute\/disks$/i });
    const t0 = Date.now();
    const s = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(s.status, JSON.stringify(s.error)).toBe('succeeded');
    expect(fault.remaining()).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect((s.result as any).regions[0].retries).toBe(3);
    expect(az.requests.filter((r) => r.status === 429)).toHaveLength(2);
    expect(az.requests.filter((r) => r.status === 503)).toHaveLength(1);
    expect(guestsOf(id)).toHaveLength(n);

    // The secret expires; the session is reopened (as after a restart) and asks Entra for a new token.
    az.principals.find((p) => p.clientId === az.clientId)!.secretExpired = true;
    t.core.clouds.forget(id);
    const f = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(f.status).toBe('failed');
    expect(f.error).toMatchObject({ code: 'forbidden', reason: 'credentials' });
    expect(f.error!.message).toContain('AADSTS7000222');
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc.account).toMatchObject({ health: 'error', stale: true });
    expect(acc.account.lastError).toContain('AADSTS7000222');
    expect(guestsOf(id)).toHaveLength(n);
    expect(guestsOf(id).every((g) => g.status !== 'vanished')).toBe(true);
  }, 60_000);

  it('guest lifecycle through guests.action (LRO pollers), and operations as tasks: resize, create, disks, snapshots, public IPs, NSG rules', async () => {
    az = await startFake({ vms: 16 });
    t = await testServer();
    const { id } = await add(['eastus']);
    const act = async (gid: string, action: string) => {
      const r = await t.call('guests.action', { id: gid, action });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return t.core.engine.waitFor(r.body.taskId);
    };
    const run = async (cmd: string, input: unknown) => {
      const res = await t.call(cmd, input);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return t.core.engine.waitFor(res.body.taskId);
    };
    const status = (gid: string) => (t.core.db.prepare('SELECT status FROM guests WHERE id = ?').get(gid) as { status: string } | undefined)?.status;

    const running = guestsOf(id).find((g) => g.status === 'running')!;
    const vmId = cloudIdOf(running);
    // Suspend is not something Azure offers: refused before any task.
    expect((await t.call('guests.action', { id: running.id, action: 'suspend' })).body.code).toBe('not_supported');
    expect((await act(running.id, 'stop')).status).toBe('succeeded');
    expect(az.powerState(vmId)).toBe('deallocated');
    expect(status(running.id)).toBe('ready');
    expect((await act(running.id, 'start')).status).toBe('succeeded');
    expect(az.powerState(vmId)).toBe('running');
    expect((await act(running.id, 'reboot')).status).toBe('succeeded');
    expect((await act(running.id, 'forceStop')).status).toBe('succeeded');
    expect(az.powerState(vmId)).toBe('stopped');
    expect(status(running.id)).toBe('ready');

    // Resize; a size not offered → SkuNotAvailable; a missing permission → AuthorizationFailed.
    expect((await run('clouds.resizeGuest', { id: running.id, instanceType: 'Standard_E4s_v5' })).status).toBe('succeeded');
    expect(az.resource(vmId).properties.hardwareProfile.vmSize).toBe('Standard_E4s_v5');
    expect(t.core.db.prepare('SELECT instance_type, memory_mb FROM guests WHERE id = ?').get(running.id)).toEqual({ instance_type: 'Standard_E4s_v5', memory_mb: 32768 });
    const sku = await run('clouds.resizeGuest', { id: running.id, instanceType: 'Standard_M416ms_v2' });
    expect(sku.status).toBe('failed');
    expect(sku.error).toMatchObject({ code: 'conflict', reason: 'SkuNotAvailable' });
    az.inject({ kind: 'authz', operation: /virtualMachines\/start\/action$/ });
    const denied = await act(running.id, 'start');
    expect(denied.status).toBe('failed');
    expect(denied.error).toMatchObject({ code: 'forbidden', reason: 'permission' });
    expect(denied.error!.message).toContain('AuthorizationFailed');

    // Create: in the network group's subnet, with an NSG and an SSH key from the inventory; then the quota error.
    const subnet = t.core.db.prepare(`SELECT external_id FROM networks WHERE cloud_account_id = ? AND name = 'default'`).get(id) as { external_id: string };
    const nsg = t.core.db.prepare(`SELECT id, external_id FROM security_groups WHERE cloud_account_id = ?`).get(id) as { id: string; external_id: string };
    const key = t.core.db.prepare(`SELECT name FROM keypairs WHERE provider = 'azure' LIMIT 1`).get() as { name: string } | undefined;
    const image = 'Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest';
    const spec = { accountId: id, region: 'eastus', name: 'new-vm', imageId: image, instanceType: 'Standard_B2s', subnetId: subnet.external_id.split('/').slice(2).join('/'), securityGroupIds: [nsg.external_id.split('/').slice(2).join('/')], diskGb: 64, ...(key ? { keyName: key.name } : {}) };
    const made = await run('clouds.createGuest', spec);
    expect(made.status, JSON.stringify(made.error)).toBe('succeeded');
    const newVm = guestsOf(id).find((g) => g.name === 'new-vm')!;
    expect(newVm).toMatchObject({ status: 'running', instance_type: 'Standard_B2s', vcpu: 2, memory_mb: 4096 });
    az.setQuota('eastus', az.coresUsed('eastus'));
    const quota = await run('clouds.createGuest', { ...spec, name: 'one-too-many' });
    expect(quota.status).toBe('failed');
    expect(quota.error).toMatchObject({ code: 'conflict', reason: 'OperationNotAllowed' });
    expect(quota.error!.message).toMatch(/quota/i);
    expect(guestsOf(id).find((g) => g.name === 'one-too-many')).toBeUndefined();
    // The NIC made for it is removed again.
    const rgPath = spec.subnetId.split('/providers/')[0];
    expect(az.resource(`${rgPath}/providers/Microsoft.Network/networkInterfaces/new-vm-nic`)).toBeTruthy();
    expect(az.resource(`${rgPath}/providers/Microsoft.Network/networkInterfaces/one-too-many-nic`)).toBeUndefined();
    az.setQuota('eastus', 100_000);

    // Disks: attach a spare disk to the new VM at LUN 0, detach it, snapshot it, delete the snapshot.
    const spare = t.core.db.prepare(`SELECT * FROM disks WHERE cloud_account_id = ? AND guest_id IS NULL AND bootable = 0 ORDER BY name LIMIT 1`).get(id) as Record<string, any>;
    expect((await run('clouds.attachDisk', { diskId: spare.id, guestId: newVm.id, device: '0' })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id FROM disks WHERE id = ?').get(spare.id)).toEqual({ guest_id: newVm.id });
    expect(az.resource(cloudIdOf(newVm)).properties.storageProfile.dataDisks).toHaveLength(1);
    expect((await run('clouds.detachDisk', { diskId: spare.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id FROM disks WHERE id = ?').get(spare.id)).toEqual({ guest_id: null });
    expect((await run('clouds.createSnapshot', { diskId: spare.id, name: 'before-upgrade' })).status).toBe('succeeded');
    const snap = t.core.db.prepare('SELECT * FROM snapshots WHERE disk_id = ?').get(spare.id) as Record<string, any>;
    expect(snap.name).toBe('before-upgrade');
    expect((await run('clouds.deleteSnapshot', { id: snap.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT 1 FROM snapshots WHERE id = ?').get(snap.id)).toBeUndefined();

    // Public IP (every one in the fake is on a VM): off its VM, onto the new VM's NIC, and off again.
    const eip = t.core.db.prepare(`SELECT * FROM eips WHERE cloud_account_id = ? ORDER BY ip LIMIT 1`).get(id) as Record<string, any>;
    if (eip.guest_id) expect((await run('clouds.dissociateEip', { eipId: eip.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id, status FROM eips WHERE id = ?').get(eip.id)).toEqual({ guest_id: null, status: 'available' });
    expect((await run('clouds.associateEip', { eipId: eip.id, guestId: newVm.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id, status FROM eips WHERE id = ?').get(eip.id)).toEqual({ guest_id: newVm.id, status: 'associated' });
    expect(t.core.db.prepare('SELECT ips FROM guests WHERE id = ?').get(newVm.id)).toEqual({ ips: expect.stringContaining(eip.ip) });
    expect((await run('clouds.dissociateEip', { eipId: eip.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id FROM eips WHERE id = ?').get(eip.id)).toEqual({ guest_id: null });

    // NSG rules: add, a duplicate refused, remove.
    const rules = () => t.core.db.prepare(`SELECT direction, protocol, ports, cidr FROM security_group_rules WHERE group_id = ?`).all(nsg.id);
    expect((await run('clouds.addRule', { groupId: nsg.id, protocol: 'tcp', fromPort: 8443, toPort: 8443, cidr: '10.0.0.0/8' })).status).toBe('succeeded');
    expect(rules()).toContainEqual({ direction: 'in', protocol: 'tcp', ports: '8443', cidr: '10.0.0.0/8' });
    const dup = await run('clouds.addRule', { groupId: nsg.id, protocol: 'tcp', fromPort: 8443, toPort: 8443, cidr: '10.0.0.0/8' });
    expect(dup.error).toMatchObject({ code: 'conflict', reason: 'SecurityRuleDuplicate' });
    expect((await run('clouds.removeRule', { groupId: nsg.id, protocol: 'tcp', fromPort: 8443, toPort: 8443, cidr: '10.0.0.0/8' })).status).toBe('succeeded');
    expect(rules()).not.toContainEqual({ direction: 'in', protocol: 'tcp', ports: '8443', cidr: '10.0.0.0/8' });

    // Delete: the VM goes, its row too.
    expect((await act(newVm.id, 'delete')).status).toBe('succeeded');
    expect(az.resource(cloudIdOf(newVm))).toBeUndefined();
    expect(status(newVm.id)).toBeUndefined();
    const p = (await t.call('clouds.providers', {})).body;
    expect(p.items.find((x: any) => x.provider === 'azure').capabilities.operations).toContain('securityGroupRules');
  }, 90_000);
});

describe('lazy SDK', () => {
  it('the Azure driver imports its SDKs only at connect', () => {
    const src = readFileSync(join(import.meta.dirname, 'index.ts'), 'utf8');
    expect(src).not.toMatch(/^import [^t].*@azure/m);
    expect(readFileSync(join(import.meta.dirname, 'session.ts'), 'utf8')).not.toMatch(/^import (?!type ).*from '@azure/m);
  });
});
