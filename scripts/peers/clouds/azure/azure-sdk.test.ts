// The real Azure SDK (@azure/identity ClientSecretCredential, @azure/arm-compute) against the Azure fake, in-process,
// trusting the test CA through core-rest-pipeline's tlsOptions.
import { ComputeManagementClient } from '@azure/arm-compute';
import { ClientSecretCredential } from '@azure/identity';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAzureFake, type AzureFake } from './azure-fake.mjs';

let az: AzureFake;
beforeAll(async () => {
  az = await startAzureFake({ vms: 2500 });
});
afterAll(async () => az?.close());

const clients = () => {
  const tlsOptions = { ca: az.caPem };
  const credential = new ClientSecretCredential(az.tenantId, az.clientId, az.clientSecret, { authorityHost: az.authorityHost, disableInstanceDiscovery: true, tlsOptions });
  return { credential, compute: new ComputeManagementClient(credential, az.subscriptionId, { endpoint: az.endpoint, tlsOptions }) };
};

it('lists every VM across nextLink pages and starts one through its poller', async () => {
  const { compute } = clients();
  const names = new Set<string>();
  for await (const vm of compute.virtualMachines.listAll()) names.add(String(vm.id));
  expect(names.size).toBe(2500);
  expect(az.requests.filter((r) => r.path.endsWith('/virtualMachines')).length).toBe(3);
  const id = az.vmIds().find((v) => az.powerState(v) === 'deallocated') ?? '';
  const [, , , , rg = '', , , , name = ''] = id.split('/');
  await compute.virtualMachines.start(rg, name, { updateIntervalInMs: 5 });
  expect(az.powerState(id)).toBe('running');
  expect(az.tokensIssued).toBe(1);
});

it('surfaces a wrong secret and ARM errors with their codes', async () => {
  const bad = new ClientSecretCredential(az.tenantId, az.clientId, 'wrong', { authorityHost: az.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: az.caPem } });
  await expect(bad.getToken(az.scope)).rejects.toThrow(/AADSTS7000215/);
  const { compute } = clients();
  az.inject({ kind: 'sku', operation: /virtualMachines\/write$/ });
  const id = az.vmIds()[0] ?? '';
  const [, , , , rg = '', , , , name = ''] = id.split('/');
  await expect(compute.virtualMachines.update(rg, name, { hardwareProfile: { vmSize: 'Standard_D8s_v5' } }, { updateIntervalInMs: 5 })).rejects.toMatchObject({ code: 'SkuNotAvailable' });
});
