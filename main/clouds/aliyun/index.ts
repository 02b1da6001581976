import type { CloudAccountConfig, CloudDriver, CloudSession } from '../types';

/**
 * Alibaba Cloud (ECS 2014-05-26, and VPC 2016-04-28 for VPCs, vSwitches and EIPs) through the official SDK
 * `@alicloud/ecs20140526` on `@alicloud/openapi-client`'s Config, imported at the first connect (the SDK takes a while to
 * load): the main process does not load it at start. VPC calls go through the same client class's generic `callApi`.
 */
export const aliyunDriver: CloudDriver = {
  provider: 'aliyun',
  capabilities: {
    sync: ['regions', 'zones', 'vpcs', 'subnets', 'securityGroups', 'instances', 'disks', 'snapshots', 'images', 'eips', 'keypairs'],
    operations: ['start', 'stop', 'reboot', 'delete', 'resize', 'create', 'attachDisk', 'detachDisk', 'createSnapshot', 'deleteSnapshot', 'associateEip', 'dissociateEip', 'securityGroupRules', 'console', 'metrics', 'prices'],
  },
  credentialFields: [
    { key: 'accessKeyId', secret: false },
    { key: 'accessKeySecret', secret: true },
  ],
  async connect(config: CloudAccountConfig): Promise<CloudSession> {
    const { AliyunSession } = await import('./session');
    const ecs = await import('@alicloud/ecs20140526');
    const openapi = await import('@alicloud/openapi-client');
    return new AliyunSession({ ecs, openapi }, config);
  },
};
