import type { CloudAccountConfig, CloudDriver, CloudSession } from '../types';

/**
 * AWS (EC2) through the official SDK `@aws-sdk/client-ec2`, imported at the first connect (it takes a few hundred ms to
 * load): the main process does not load it at start. Metrics (CloudWatch, `@aws-sdk/client-cloudwatch`) and prices (the
 * Price List Query API, `@aws-sdk/client-pricing`) import theirs at the session's first call.
 */
export const awsDriver: CloudDriver = {
  provider: 'aws',
  capabilities: {
    sync: ['regions', 'zones', 'vpcs', 'subnets', 'securityGroups', 'instances', 'disks', 'snapshots', 'images', 'eips', 'keypairs'],
    operations: ['start', 'stop', 'reboot', 'delete', 'resize', 'create', 'attachDisk', 'detachDisk', 'createSnapshot', 'deleteSnapshot', 'associateEip', 'dissociateEip', 'securityGroupRules', 'metrics', 'prices'],
  },
  credentialFields: [
    { key: 'accessKeyId', secret: false },
    { key: 'secretAccessKey', secret: true },
  ],
  async connect(config: CloudAccountConfig): Promise<CloudSession> {
    const { AwsSession } = await import('./session');
    const sdk = await import('@aws-sdk/client-ec2');
    return new AwsSession(sdk, config);
  },
};
