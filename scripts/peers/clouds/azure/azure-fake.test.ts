// The Azure fake's own tests: Entra tokens (issue, signature, claims), ARM token verification, api-versions, nextLink
// paging over 10k VMs, long-running operations, fault injection, and HTTPS with the test CA in and out of process.
import { execFile } from 'node:child_process';
import { createPublicKey, createVerify } from 'node:crypto';
import https from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAzureFake, type AzureFake } from './azure-fake.mjs';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

let az: AzureFake;
let agent: https.Agent;
let token = '';

function call(method: string, path: string, o: { token?: string | null; json?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = new URL(path, az.endpoint);
  const body = o.form ? new URLSearchParams(o.form).toString() : o.json !== undefined ? JSON.stringify(o.json) : undefined;
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.form) headers['content-type'] = 'application/x-www-form-urlencoded;charset=utf-8';
  else if (body) headers['content-type'] = 'application/json';
  const bearer = o.token === undefined ? token : o.token;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const sub = () => `/subscriptions/${az.subscriptionId}`;
const tokenForm = (over: Record<string, string> = {}) => ({ grant_type: 'client_credentials', client_id: az.clientId, client_secret: az.clientSecret, scope: az.scope, ...over });
const b64json = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

beforeAll(async () => {
  az = await startAzureFake({ vms: 10_000 });
  agent = new https.Agent({ ca: az.caPem, keepAlive: true });
  const r = await call('POST', `/${az.tenantId}/oauth2/v2.0/token`, { token: null, form: tokenForm() });
  token = r.body.access_token;
});
afterEach(() => az.clearFaults());
afterAll(async () => {
  agent?.destroy();
  await az?.close();
});

describe('Entra token endpoint', () => {
  it('serves OpenID metadata and issues an RS256 JWT for the client credentials grant', async () => {
    const meta = await call('GET', `/${az.tenantId}/v2.0/.well-known/openid-configuration`, { token: null });
    expect(meta.status).toBe(200);
    expect(meta.body.token_endpoint).toBe(`${az.authorityHost}/${az.tenantId}/oauth2/v2.0/token`);
    expect(meta.body.issuer).toBe(`${az.authorityHost}/${az.tenantId}/v2.0`);
    // Asked by domain name, the endpoints carry the tenant id (MSAL takes the id from the authorization endpoint).
    const byName = await call('GET', `/${az.tenantDomain}/v2.0/.well-known/openid-configuration`, { token: null });
    expect(byName.body.authorization_endpoint).toBe(`${az.authorityHost}/${az.tenantId}/oauth2/v2.0/authorize`);

    const r = await call('POST', `/${az.tenantId}/oauth2/v2.0/token`, { token: null, form: tokenForm() });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
    const [h = '', p = '', s = ''] = String(r.body.access_token).split('.');
    const header = b64json(h);
    const claims = b64json(p);
    expect(header).toMatchObject({ typ: 'JWT', alg: 'RS256' });
    expect(claims).toMatchObject({ aud: 'https://management.azure.com', iss: `https://sts.windows.net/${az.tenantId}/`, tid: az.tenantId, appid: az.clientId, ver: '1.0' });
    expect(claims.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(3500);

    // The signature checks out with the key the JWKS endpoint publishes (node:crypto, not the fake's verifier).
    const jwks = await call('GET', `/${az.tenantId}/discovery/v2.0/keys`, { token: null });
    const key = jwks.body.keys.find((k: { kid: string }) => k.kid === header.kid);
    expect(key).toBeTruthy();
    const pub = createPublicKey({ key: { kty: 'RSA', n: key.n, e: key.e }, format: 'jwk' });
    expect(createVerify('RSA-SHA256').update(`${h}.${p}`).verify(pub, Buffer.from(s, 'base64url'))).toBe(true);
  });

  it('answers AADSTS errors like Entra: wrong secret, unknown client, bad scope, unknown tenant', async () => {
    const wrong = await call('POST', `/${az.tenantId}/oauth2/v2.0/token`, { token: null, form: tokenForm({ client_secret: 'nope' }) });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    expect(wrong.body.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided\./);
    expect(wrong.body.error_description).toMatch(/Trace ID: .*\r\nCorrelation ID: .*\r\nTimestamp: /);

    const unknown = await call('POST', `/${az.tenantId}/oauth2/v2.0/token`, { token: null, form: tokenForm({ client_id: '99999999-0000-0000-0000-000000000000' }) });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });

    const scope = await call('POST', `/${az.tenantId}/oauth2/v2.0/token`, { token: null, form: tokenForm({ scope: 'https://management.azure.com/user_impersonation' }) });
    expect(scope.body).toMatchObject({ error: 'invalid_scope', error_codes: [1002012] });

    const tenant = await call('POST', '/11111111-0000-0000-0000-000000000000/oauth2/v2.0/token', { token: null, form: tokenForm() });
    expect(tenant.body).toMatchObject({ error: 'invalid_tenant', error_codes: [90002] });
  });
});

describe('ARM token verification', () => {
  const vmsPath = () => `${sub()}/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01`;
  it('accepts a token from the token endpoint', async () => {
    const r = await call('GET', `${sub()}/resourcegroups?api-version=2021-04-01`);
    expect(r.status).toBe(200);
    expect(az.requests.at(-1)).toMatchObject({ status: 200, principal: az.clientId, operation: 'Microsoft.Resources/subscriptions/resourceGroups/read' });
  });

  it('rejects a missing header, a tampered token, an expired token, a wrong audience and another tenant with 401', async () => {
    const missing = await call('GET', vmsPath(), { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('AuthenticationFailed');
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer authorization_uri=".*", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header\."$/);

    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = b64json(p);
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, appid: az.principals[1]?.clientId })).toString('base64url')}.${s}`;
    const bad = await call('GET', vmsPath(), { token: tampered });
    expect(bad.status).toBe(401);
    expect(bad.body.error).toEqual({ code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' });
    expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);

    const unsigned = `${Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'none' })).toString('base64url')}.${p}.`;
    expect((await call('GET', vmsPath(), { token: unsigned })).body.error.code).toBe('InvalidAuthenticationToken');

    const expired = await call('GET', vmsPath(), { token: az.issueToken({ expiresInSec: -60 }) });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('ExpiredAuthenticationToken');
    expect(expired.body.error.message).toMatch(/^The access token expiry UTC time '\d+\/\d+\/\d{4} \d+:\d\d:\d\d [AP]M' is earlier than current UTC time/);
    expect(expired.headers['www-authenticate']).toMatch(/error_description="The access token has expired\."/);

    // A genuine token of the fake's Entra, but for Key Vault.
    const vault = await call('POST', `/${az.tenantId}/oauth2/v2.0/token`, { token: null, form: tokenForm({ scope: 'https://vault.azure.net/.default' }) });
    expect(vault.status).toBe(200);
    const aud = await call('GET', vmsPath(), { token: vault.body.access_token });
    expect(aud.status).toBe(401);
    expect(aud.body.error.code).toBe('InvalidAuthenticationTokenAudience');
    expect(aud.body.error.message).toMatch(/wrong audience or resource 'https:\/\/vault\.azure\.net'/);

    const other = await call('GET', vmsPath(), { token: az.issueToken({ tenantId: '33333333-0000-0000-0000-000000000000' }) });
    expect(other.body.error.code).toBe('InvalidAuthenticationTokenTenant');

    const classic = await call('POST', `/${az.tenantId}/oauth2/v2.0/token`, { token: null, form: tokenForm({ scope: 'https://management.core.windows.net//.default' }) });
    expect((await call('GET', `${sub()}/resourcegroups?api-version=2021-04-01`, { token: classic.body.access_token })).status).toBe(200);
  });

  it('checks the api-version per resource provider', async () => {
    const none = await call('GET', `${sub()}/providers/Microsoft.Compute/virtualMachines`);
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('MissingApiVersionParameter');
    const malformed = await call('GET', `${sub()}/providers/Microsoft.Compute/virtualMachines?api-version=latest`);
    expect(malformed.body.error.code).toBe('InvalidApiVersionParameter');
    const unknown = await call('GET', `${sub()}/providers/Microsoft.Compute/virtualMachines?api-version=2099-01-01`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('NoRegisteredProviderFound');
    // Disks live on the disk RP's own versions: a Compute version is refused there, and the other way round.
    expect((await call('GET', `${sub()}/providers/Microsoft.Compute/disks?api-version=2024-07-01`)).body.error.code).toBe('NoRegisteredProviderFound');
    expect((await call('GET', `${sub()}/providers/Microsoft.Compute/disks?api-version=2024-03-02`)).status).toBe(200);
    expect((await call('GET', `${sub()}/providers/Microsoft.Network/virtualNetworks?api-version=2024-05-01`)).status).toBe(200);
  });
});

describe('ARM inventory', () => {
  it('pages 10k VMs with nextLink', async () => {
    let next: string | undefined = `${sub()}/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01`;
    const ids = new Set<string>();
    let pages = 0;
    while (next) {
      const r = await call('GET', next);
      expect(r.status).toBe(200);
      pages++;
      for (const vm of r.body.value) ids.add(vm.id);
      next = r.body.nextLink;
      if (next) {
        const u = new URL(next);
        expect(u.origin).toBe(az.endpoint);
        expect(u.searchParams.get('api-version')).toBe('2024-07-01');
        expect(u.searchParams.get('$skiptoken')).toBeTruthy();
      }
    }
    expect(pages).toBe(10);
    expect(ids.size).toBe(10_000);
    const first = (await call('GET', `${sub()}/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01`)).body.value[0];
    expect(first).toMatchObject({ type: 'Microsoft.Compute/virtualMachines', properties: { provisioningState: 'Succeeded', hardwareProfile: { vmSize: expect.stringMatching(/^Standard_/) } } });
    expect(first.properties.networkProfile.networkInterfaces[0].id).toMatch(/\/providers\/Microsoft\.Network\/networkInterfaces\//);
    // Same options, same inventory.
    const again = await startAzureFake({ vms: 10_000 });
    try {
      expect(again.vmIds()).toEqual(az.vmIds());
    } finally {
      await again.close();
    }
  });

  it('lists locations, resource groups, networks, NSG rules, public IPs, NICs, disks, snapshots, images and SSH keys', async () => {
    const locs = await call('GET', `${sub()}/locations?api-version=2022-12-01`);
    expect(locs.body.value.map((l: { name: string }) => l.name)).toContain('westeurope');
    expect(locs.body.value[0]).toMatchObject({ type: 'Region', metadata: { regionType: 'Physical' } });
    const groups = await call('GET', `${sub()}/resourcegroups?api-version=2021-04-01`);
    expect(groups.body.value.length).toBeGreaterThan(40);
    const vnets = await call('GET', `${sub()}/providers/Microsoft.Network/virtualNetworks?api-version=2024-05-01`);
    const vnet = vnets.body.value[0];
    expect(vnet.properties.subnets[0]).toMatchObject({ name: 'default', type: 'Microsoft.Network/virtualNetworks/subnets' });
    const rgOf = (id: string) => id.split('/')[4];
    const subnets = await call('GET', `${sub()}/resourceGroups/${rgOf(vnet.id)}/providers/Microsoft.Network/virtualNetworks/${vnet.name}/subnets?api-version=2024-05-01`);
    expect(subnets.body.value).toHaveLength(2);
    const nsgs = await call('GET', `${sub()}/providers/Microsoft.Network/networkSecurityGroups?api-version=2024-05-01`);
    const nsg = nsgs.body.value[0];
    const rules = await call('GET', `${sub()}/resourceGroups/${rgOf(nsg.id)}/providers/Microsoft.Network/networkSecurityGroups/${nsg.name}/securityRules?api-version=2024-05-01`);
    expect(rules.body.value.map((r: { name: string }) => r.name)).toEqual(['allow-ssh', 'allow-https']);
    for (const [path, api] of [
      ['Microsoft.Network/publicIPAddresses', '2024-05-01'],
      ['Microsoft.Network/networkInterfaces', '2024-05-01'],
      ['Microsoft.Compute/disks', '2024-03-02'],
      ['Microsoft.Compute/snapshots', '2024-03-02'],
      ['Microsoft.Compute/images', '2024-07-01'],
      ['Microsoft.Compute/sshPublicKeys', '2024-07-01'],
    ] as const) {
      const r = await call('GET', `${sub()}/providers/${path}?api-version=${api}`);
      expect(r.status, path).toBe(200);
      expect(r.body.value.length, path).toBeGreaterThan(0);
      expect(r.body.value[0].type, path).toBe(path);
    }
    const rg = await call('GET', `${sub()}/resourceGroups/nope?api-version=2021-04-01`);
    expect(rg.status).toBe(404);
    expect(rg.body.error.code).toBe('ResourceGroupNotFound');
    const vm = await call('GET', `${sub()}/resourceGroups/rg-eastus-0/providers/Microsoft.Compute/virtualMachines/nope?api-version=2024-07-01`);
    expect(vm.status).toBe(404);
    expect(vm.body.error.code).toBe('ResourceNotFound');
  });
});

describe('long-running operations', () => {
  it('deallocates a VM through Azure-AsyncOperation: InProgress, then Succeeded, then the state shows', async () => {
    const id = az.vmIds().find((v) => az.powerState(v) === 'running') ?? '';
    const r = await call('POST', `${id}/deallocate?api-version=2024-07-01`);
    expect(r.status).toBe(202);
    const asyncOp = String(r.headers['azure-asyncoperation']);
    const location = String(r.headers.location);
    expect(asyncOp).toMatch(new RegExp(`^${az.endpoint}/subscriptions/${az.subscriptionId}/providers/Microsoft.Compute/locations/[a-z0-9]+/operations/[-0-9a-f]+\\?`));
    expect(location).toMatch(/monitor=true/);
    const during = await call('GET', `${id}/instanceView?api-version=2024-07-01`);
    expect(during.body.statuses[1].code).toBe('PowerState/deallocating');
    // A second operation while this one runs conflicts.
    expect((await call('POST', `${id}/start?api-version=2024-07-01`)).status).toBe(409);
    const p1 = await call('GET', asyncOp);
    expect(p1.body).toMatchObject({ status: 'InProgress' });
    const p2 = await call('GET', asyncOp);
    expect(p2.body).toMatchObject({ status: 'Succeeded', endTime: expect.any(String) });
    const mon = await call('GET', location);
    expect(mon.status).toBe(200);
    const after = await call('GET', `${id}?api-version=2024-07-01&$expand=instanceView`);
    expect(after.body.properties.instanceView.statuses.map((s: { code: string }) => s.code)).toEqual(['ProvisioningState/succeeded', 'PowerState/deallocated']);
    expect(az.powerState(id)).toBe('deallocated');
  });

  it('creates, resizes and deletes a VM with its disks and NIC', async () => {
    const rg = `${sub()}/resourceGroups/rg-westeurope-0/providers`;
    const nicId = `${rg}/Microsoft.Network/networkInterfaces/new-nic`;
    const subnetId = `${sub()}/resourceGroups/rg-net-westeurope/providers/Microsoft.Network/virtualNetworks/vnet-westeurope/subnets/app`;
    const pipId = `${rg}/Microsoft.Network/publicIPAddresses/new-ip`;
    const pip = await call('PUT', `${pipId}?api-version=2024-05-01`, { json: { location: 'westeurope', sku: { name: 'Standard' }, properties: { publicIPAllocationMethod: 'Static' } } });
    expect(pip.status).toBe(201);
    expect(pip.headers['azure-asyncoperation']).toMatch(/\/providers\/Microsoft\.Network\/locations\/westeurope\/operations\//);
    const nic = await call('PUT', `${nicId}?api-version=2024-05-01`, { json: { location: 'westeurope', properties: { ipConfigurations: [{ name: 'ipconfig1', properties: { subnet: { id: subnetId }, publicIPAddress: { id: pipId } } }] } } });
    expect(nic.status).toBe(201);
    expect(az.resource(pipId).properties.ipConfiguration.id).toBe(`${nicId}/ipConfigurations/ipconfig1`);
    const vmId = `${rg}/Microsoft.Compute/virtualMachines/new-vm`;
    const body = {
      location: 'westeurope',
      tags: { owner: 'skydeck' },
      properties: {
        hardwareProfile: { vmSize: 'Standard_D2s_v5' },
        storageProfile: { imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: 'latest' }, osDisk: { createOption: 'FromImage' }, dataDisks: [{ lun: 0, createOption: 'Empty', diskSizeGB: 64 }] },
        osProfile: { computerName: 'new-vm', adminUsername: 'azureuser', linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [{ path: '/home/azureuser/.ssh/authorized_keys', keyData: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGd2k1cXn4o9o3X3u0Yk5m2wq7X8mFqZKp4bV6m0aQ0H test' }] } } },
        networkProfile: { networkInterfaces: [{ id: nicId, properties: { deleteOption: 'Delete' } }] },
      },
    };
    // Not offered there: SkuNotAvailable; nothing created.
    const nc = await call('PUT', `${vmId}?api-version=2024-07-01`, { json: { ...body, properties: { ...body.properties, hardwareProfile: { vmSize: 'Standard_NC6s_v3' } } } });
    expect(nc.status).toBe(409);
    expect(nc.body.error.code).toBe('SkuNotAvailable');
    expect(nc.body.error.message).toMatch(/Standard_NC6s_v3' is currently not available in location 'westeurope'/);
    expect(az.resource(vmId)).toBeUndefined();

    const created = await call('PUT', `${vmId}?api-version=2024-07-01`, { json: body });
    expect(created.status).toBe(201);
    expect(created.body.properties.provisioningState).toBe('Creating');
    expect(created.headers['azure-asyncoperation']).toBeTruthy();
    expect((await call('GET', String(created.headers['azure-asyncoperation']))).body.status).toBe('InProgress');
    expect((await call('GET', String(created.headers['azure-asyncoperation']))).body.status).toBe('Succeeded');
    const vm = await call('GET', `${vmId}?api-version=2024-07-01&$expand=instanceView`);
    expect(vm.body.properties.provisioningState).toBe('Succeeded');
    expect(vm.body.properties.instanceView.statuses[1].code).toBe('PowerState/running');
    const osDiskId = vm.body.properties.storageProfile.osDisk.managedDisk.id;
    expect(az.resource(osDiskId)).toMatchObject({ managedBy: vmId, properties: { diskState: 'Attached' } });
    expect(az.resource(nicId).properties.virtualMachine.id).toBe(vmId);

    const resized = await call('PATCH', `${vmId}?api-version=2024-07-01`, { json: { properties: { hardwareProfile: { vmSize: 'Standard_D4s_v5' } } } });
    expect(resized.status).toBe(200);
    expect(resized.body.properties).toMatchObject({ provisioningState: 'Updating', hardwareProfile: { vmSize: 'Standard_D4s_v5' } });
    az.settleAll();
    expect((await call('GET', `${vmId}?api-version=2024-07-01`)).body.properties.provisioningState).toBe('Succeeded');

    // The NIC is in use: it cannot go before the VM does.
    expect((await call('DELETE', `${nicId}?api-version=2024-05-01`)).body.error.code).toBe('NicInUse');
    const del = await call('DELETE', `${vmId}?api-version=2024-07-01`);
    expect(del.status).toBe(202);
    expect((await call('GET', `${vmId}?api-version=2024-07-01`)).body.properties.provisioningState).toBe('Deleting');
    const loc = String(del.headers.location);
    expect((await call('GET', loc)).status).toBe(202);
    expect((await call('GET', loc)).status).toBe(200);
    expect((await call('GET', `${vmId}?api-version=2024-07-01`)).status).toBe(404);
    expect(az.resource(osDiskId)).toBeUndefined();
    expect(az.resource(nicId)).toBeUndefined();
    expect(az.resource(pipId).properties.ipConfiguration).toBeUndefined();
    expect((await call('DELETE', `${vmId}?api-version=2024-07-01`)).status).toBe(204);
  });

  it('snapshots a disk and deletes it on the disk RP (DiskOperations, its own api-version)', async () => {
    const disks = await call('GET', `${sub()}/providers/Microsoft.Compute/disks?api-version=2024-03-02`);
    const disk = (await call('GET', `${sub()}/resourceGroups/rg-eastus-0/providers/Microsoft.Compute/disks/orphan-eastus-0?api-version=2024-03-02`)).body;
    expect(disk.properties.diskState).toBe('Unattached');
    const attached = disks.body.value.find((d: { managedBy?: string }) => d.managedBy);
    expect((await call('DELETE', `${attached.id}?api-version=2024-03-02`)).body.error.code).toBe('OperationNotAllowed');
    const snapId = `${disk.id.split('/providers/')[0]}/providers/Microsoft.Compute/snapshots/snap-test`;
    const put = await call('PUT', `${snapId}?api-version=2024-03-02`, { json: { location: disk.location, properties: { creationData: { createOption: 'Copy', sourceResourceId: disk.id } } } });
    expect(put.status).toBe(201);
    const op = String(put.headers['azure-asyncoperation']);
    expect(op).toMatch(/\/providers\/Microsoft\.Compute\/locations\/[a-z0-9]+\/DiskOperations\/.*api-version=2024-03-02/);
    expect((await call('GET', op)).body.status).toBe('InProgress');
    expect((await call('GET', op)).body.status).toBe('Succeeded');
    const snap = await call('GET', `${snapId}?api-version=2024-03-02`);
    expect(snap.body).toMatchObject({ type: 'Microsoft.Compute/snapshots', properties: { provisioningState: 'Succeeded', diskSizeGB: disk.properties.diskSizeGB, creationData: { sourceResourceId: disk.id } } });
    const missing = await call('PUT', `${snapId}2?api-version=2024-03-02`, { json: { location: disk.location, properties: { creationData: { createOption: 'Copy', sourceResourceId: `${disk.id}-gone` } } } });
    expect(missing.status).toBe(404);
    const del = await call('DELETE', `${snapId}?api-version=2024-03-02`);
    expect(del.status).toBe(202);
    az.settleAll();
    expect((await call('GET', `${snapId}?api-version=2024-03-02`)).status).toBe(404);
  });

  it('adds and removes an NSG rule as a long-running operation', async () => {
    const nsg = `${sub()}/resourceGroups/rg-net-eastus/providers/Microsoft.Network/networkSecurityGroups/nsg-eastus`;
    const clash = await call('PUT', `${nsg}/securityRules/dup?api-version=2024-05-01`, { json: { properties: { protocol: 'Tcp', access: 'Allow', direction: 'Inbound', priority: 100, sourcePortRange: '*', destinationPortRange: '8080', sourceAddressPrefix: '*', destinationAddressPrefix: '*' } } });
    expect(clash.body.error.code).toBe('SecurityRuleConflict');
    const put = await call('PUT', `${nsg}/securityRules/allow-8080?api-version=2024-05-01`, { json: { properties: { protocol: 'Tcp', access: 'Allow', direction: 'Inbound', priority: 300, sourcePortRange: '*', destinationPortRange: '8080', sourceAddressPrefix: '*', destinationAddressPrefix: '*' } } });
    expect(put.status).toBe(201);
    expect(put.body.properties.provisioningState).toBe('Updating');
    await call('GET', String(put.headers['azure-asyncoperation']));
    expect((await call('GET', String(put.headers['azure-asyncoperation']))).body).toEqual({ status: 'Succeeded' });
    const del = await call('DELETE', `${nsg}/securityRules/allow-8080?api-version=2024-05-01`);
    expect(del.status).toBe(202);
    expect(String(del.headers.location)).toMatch(/\/operationResults\//);
    expect((await call('GET', String(del.headers.location))).status).toBe(202);
    expect((await call('GET', String(del.headers.location))).status).toBe(204);
    expect((await call('GET', `${nsg}/securityRules/allow-8080?api-version=2024-05-01`)).status).toBe(404);
    // In use by NICs and subnets: ARM refuses to delete the NSG and the VNet.
    expect((await call('DELETE', `${nsg}?api-version=2024-05-01`)).body.error.code).toBe('InUseNetworkSecurityGroupCannotBeDeleted');
    const vnet = `${sub()}/resourceGroups/rg-net-eastus/providers/Microsoft.Network/virtualNetworks/vnet-eastus`;
    expect((await call('DELETE', `${vnet}?api-version=2024-05-01`)).body.error.code).toBe('InUseSubnetCannotBeDeleted');
  });
});

describe('fault injection', () => {
  const list = () => call('GET', `${sub()}/resourcegroups?api-version=2021-04-01`);

  it('throttles the next N requests with 429 and Retry-After, then recovers', async () => {
    const f = az.inject({ kind: 'throttle', times: 2, retryAfterSec: 3 });
    const a = await list();
    expect(a.status).toBe(429);
    expect(a.headers['retry-after']).toBe('3');
    expect(a.body.error.code).toBe('TooManyRequests');
    expect(f.remaining()).toBe(1);
    expect((await list()).status).toBe(429);
    expect((await list()).status).toBe(200);
  });

  it('fails a given operation only: 5xx, quota, SKU, authorization', async () => {
    const id = az.vmIds().find((v) => az.powerState(v) === 'running') ?? '';
    az.inject({ kind: 'server', status: 503, operation: 'Microsoft.Compute/virtualMachines/restart/action', retryAfterSec: 1 });
    expect((await list()).status).toBe(200);
    const s = await call('POST', `${id}/restart?api-version=2024-07-01`);
    expect(s.status).toBe(503);
    expect(s.body.error.code).toBe('ServiceUnavailable');

    az.inject({ kind: 'quota', operation: /virtualMachines\/write$/, limit: 20, used: 18 });
    const q = await call('PATCH', `${id}?api-version=2024-07-01`, { json: { properties: { hardwareProfile: { vmSize: 'Standard_D8s_v5' } } } });
    expect(q.status).toBe(409);
    expect(q.body.error.code).toBe('OperationNotAllowed');
    expect(q.body.error.message).toMatch(/exceeding approved Total Regional Cores quota.*Current Limit: 20, Current Usage: 18, Additional Required: 8/);

    az.inject({ kind: 'sku', operation: /virtualMachines\/write$/ });
    const k = await call('PATCH', `${id}?api-version=2024-07-01`, { json: { properties: { hardwareProfile: { vmSize: 'Standard_D8s_v5' } } } });
    expect(k.body.error.code).toBe('SkuNotAvailable');

    az.inject({ kind: 'authz', operation: 'Microsoft.Compute/virtualMachines/delete' });
    const d = await call('DELETE', `${id}?api-version=2024-07-01`);
    expect(d.status).toBe(403);
    expect(d.body.error.code).toBe('AuthorizationFailed');
    expect(d.body.error.message).toContain(`does not have authorization to perform action 'Microsoft.Compute/virtualMachines/delete' over scope '${id}'`);
    expect(az.resource(id)).toBeTruthy();
  });

  it('enforces a real regional cores quota and a Reader role', async () => {
    const id = az.vmIds().find((v) => az.powerState(v) === 'deallocated' && v.includes('rg-japaneast-')) ?? '';
    az.setQuota('japaneast', az.coresUsed('japaneast'));
    const start = await call('POST', `${id}/start?api-version=2024-07-01`);
    expect(start.status).toBe(409);
    expect(start.body.error.message).toMatch(/Location: japaneast, Current Limit: \d+/);
    expect(az.powerState(id)).toBe('deallocated');
    az.setQuota('japaneast', Infinity);

    const reader = az.principals.find((p) => p.role === 'Reader');
    const t = await call('POST', `/${az.tenantId}/oauth2/v2.0/token`, { token: null, form: tokenForm({ client_id: reader?.clientId ?? '', client_secret: reader?.clientSecret ?? '' }) });
    expect((await call('GET', `${id}?api-version=2024-07-01`, { token: t.body.access_token })).status).toBe(200);
    const denied = await call('POST', `${id}/start?api-version=2024-07-01`, { token: t.body.access_token });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain(`The client '${reader?.clientId}' with object id '${reader?.objectId}'`);
  });

  it('lets an accepted operation fail asynchronously', async () => {
    const id = az.vmIds().find((v) => az.powerState(v) === 'stopped') ?? '';
    az.inject({ kind: 'error', async: true, status: 409, code: 'AllocationFailed', message: 'Allocation failed. We do not have sufficient capacity for the requested VM size in this region.', operation: /start\/action$/ });
    const r = await call('POST', `${id}/start?api-version=2024-07-01`);
    expect(r.status).toBe(202);
    await call('GET', String(r.headers['azure-asyncoperation']));
    const done = await call('GET', String(r.headers['azure-asyncoperation']));
    expect(done.body).toMatchObject({ status: 'Failed', error: { code: 'AllocationFailed' } });
    expect((await call('GET', String(r.headers.location))).status).toBe(409);
    expect(az.powerState(id)).toBe('stopped');
  });

  it('throttles the token endpoint', async () => {
    az.inject({ kind: 'throttle', target: 'token', retryAfterSec: 2 });
    const r = await call('POST', `/${az.tenantId}/oauth2/v2.0/token`, { token: null, form: tokenForm() });
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('2');
    expect(r.body.error_description).toMatch(/^AADSTS90055:/);
    expect((await call('POST', `/${az.tenantId}/oauth2/v2.0/token`, { token: null, form: tokenForm() })).status).toBe(200);
  });
});

describe('HTTPS with the test CA', () => {
  const get = (ca?: string) =>
    new Promise<number>((resolve, reject) => {
      https.get(`${az.endpoint}/${az.tenantId}/v2.0/.well-known/openid-configuration`, { agent: false, ...(ca ? { ca } : {}) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });

  it('fails for a client that does not trust the CA and works for one that does', async () => {
    await expect(get()).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(await get(az.caPem)).toBe(200);
    // The certificate names localhost too.
    const viaName = await new Promise<number>((resolve, reject) => {
      https.get(`https://localhost:${az.port}/${az.tenantId}/discovery/v2.0/keys`, { agent: false, ca: az.caPem, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(viaName).toBe(200);
  });

  it('is trusted by another process through NODE_EXTRA_CA_CERTS', async () => {
    const script = `fetch(${JSON.stringify(`${az.endpoint}/${az.tenantId}/v2.0/.well-known/openid-configuration`)}).then(r => console.log(r.status), e => { console.log('ERR', e.cause?.code ?? e.message); })`;
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ['-e', script], { env, timeout: 15_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
      });
    const { NODE_EXTRA_CA_CERTS: _drop, ...base } = process.env;
    expect(await run(base)).toBe('ERR UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(await run({ ...base, NODE_EXTRA_CA_CERTS: az.caFile })).toBe('200');
  });
});
