import type { CloudAccountConfig, CloudDriver, CloudSession } from '../types';

/**
 * Tencent Cloud (CVM, with VPC and CBS) through the official SDK `tencentcloud-sdk-nodejs-cvm`, imported at the first
 * connect: the main process does not load it at start. VPC and CBS calls go through the SDK's generic client
 * (`CommonClient` of tencentcloud-sdk-nodejs-common, the package the CVM SDK is built on and depends on), with the
 * same TC3 signing: the VPC and CBS SDK packages are not needed.
 */
export const tencentDriver: CloudDriver = {
  provider: 'tencent',
  capabilities: {
    sync: ['regions', 'zones', 'vpcs', 'subnets', 'securityGroups', 'instances', 'disks', 'snapshots', 'images', 'eips', 'keypairs'],
    operations: ['start', 'stop', 'reboot', 'delete', 'resize', 'create', 'attachDisk', 'detachDisk', 'createSnapshot', 'deleteSnapshot', 'associateEip', 'dissociateEip', 'securityGroupRules', 'console', 'metrics', 'prices'],
  },
  credentialFields: [
    { key: 'secretId', secret: false },
    { key: 'secretKey', secret: true },
  ],
  async connect(config: CloudAccountConfig): Promise<CloudSession> {
    const { TencentSession, loadTencentCommon } = await import('./session');
    const { cvm } = await import('tencentcloud-sdk-nodejs-cvm');
    return new TencentSession({ cvm, common: loadTencentCommon() }, config);
  },
};
