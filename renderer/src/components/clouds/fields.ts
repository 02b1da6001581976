import type { CloudProvider } from '@shared/contract/clouds';

/** The credential fields of each cloud's add dialog (the contract's cloudCredentialsSchema). */
export const CREDENTIAL_FIELDS: Record<CloudProvider, { key: string; secret: boolean }[]> = {
  aws: [
    { key: 'accessKeyId', secret: false },
    { key: 'secretAccessKey', secret: true },
  ],
  aliyun: [
    { key: 'accessKeyId', secret: false },
    { key: 'accessKeySecret', secret: true },
  ],
  tencent: [
    { key: 'secretId', secret: false },
    { key: 'secretKey', secret: true },
  ],
  azure: [
    { key: 'tenantId', secret: false },
    { key: 'clientId', secret: false },
    { key: 'clientSecret', secret: true },
    { key: 'subscriptionId', secret: false },
  ],
};
