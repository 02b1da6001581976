import type { CloudCredentialsInput, CloudProvider } from '@shared/contract/clouds';

/** The credential fields of each cloud's add dialog (the contract's cloudCredentialsSchema). */
export interface CredentialFieldDef {
  key: string;
  secret: boolean;
  /** A choice instead of free text (the first is the default). */
  options?: readonly string[];
}
export const CREDENTIAL_FIELDS: Record<CloudProvider, CredentialFieldDef[]> = {
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
    // The price API answers no currency: it is the account's site's.
    { key: 'currency', secret: false, options: ['CNY', 'USD'] },
  ],
  azure: [
    { key: 'tenantId', secret: false },
    { key: 'clientId', secret: false },
    { key: 'clientSecret', secret: true },
    { key: 'subscriptionId', secret: false },
  ],
};

/** The `credentials` input of clouds.add / validate / setCredentials from what the form holds (a choice left alone is its first option). */
export function credentialsInput(provider: CloudProvider, values: Record<string, string | undefined>): CloudCredentialsInput {
  return { provider, ...Object.fromEntries(CREDENTIAL_FIELDS[provider].map((f) => [f.key, (values[f.key] ?? f.options?.[0] ?? '').trim()])) } as CloudCredentialsInput;
}
