import type { CloudAccountConfig, CloudDriver, CloudSession } from '../types';

/** Knobs of the Azure driver (tests shorten the long-running-operation poll interval). */
export const azureTuning = {
  /** Interval between polls of a long-running operation when ARM sends no Retry-After (ms). */
  pollIntervalMs: 2000,
};

/**
 * Azure through the official SDKs `@azure/identity` (ClientSecretCredential), `@azure/arm-compute` and
 * `@azure/arm-network`, imported at the first connect (they take about a second to load): the main process does not
 * load them at start.
 *
 * The account's endpoint override is Azure Resource Manager's base URL; the Entra authority host is then the same origin
 * (a proxy or a fake serving both), and the CA file named by NODE_EXTRA_CA_CERTS is trusted for these clients (Node reads
 * that variable only at process start; the driver reads it at connect, so an override that a test starts in-process is
 * trusted too). Without an override: https://management.azure.com and https://login.microsoftonline.com.
 *
 * Metrics come from Azure Monitor's metrics data plane (`metrics:getBatch`, 50 VMs a call) through
 * `@azure/monitor-query-metrics` (imported at the first metrics call; the region's https://{region}.metrics.monitor.azure.com,
 * or the endpoint override; same credential, token for https://metrics.monitor.azure.com); prices from the unauthenticated Azure Retail Prices API, https://prices.azure.com/api/retail/prices, or
 * `<endpoint override>/api/retail/prices` when the account has an override.
 */
export const azureDriver: CloudDriver = {
  provider: 'azure',
  capabilities: {
    sync: ['regions', 'zones', 'vpcs', 'subnets', 'securityGroups', 'instances', 'disks', 'snapshots', 'images', 'eips', 'keypairs'],
    operations: ['start', 'stop', 'reboot', 'delete', 'resize', 'create', 'attachDisk', 'detachDisk', 'createSnapshot', 'deleteSnapshot', 'associateEip', 'dissociateEip', 'securityGroupRules', 'metrics', 'prices'],
  },
  credentialFields: [
    { key: 'tenantId', secret: false },
    { key: 'clientId', secret: false },
    { key: 'clientSecret', secret: true },
    { key: 'subscriptionId', secret: false },
  ],
  async connect(config: CloudAccountConfig): Promise<CloudSession> {
    const [{ AzureSession }, identity, compute, computeApi, network] = await Promise.all([
      import('./session'),
      import('@azure/identity'),
      import('@azure/arm-compute'),
      import('@azure/arm-compute/api'),
      import('@azure/arm-network'),
    ]);
    return new AzureSession({ identity, compute, computeApi, network }, config, azureTuning);
  },
};
