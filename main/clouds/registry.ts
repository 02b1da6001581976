import { ApiError } from '@shared/errors';
import type { CloudDriver, CloudProvider } from './types';
import { awsDriver } from './aws';
import { aliyunDriver } from './aliyun';
import { tencentDriver } from './tencent';
import { azureDriver } from './azure';

/** The cloud drivers, by provider. A new cloud adds its driver folder and one line in `defaultCloudDrivers`. */
export class CloudRegistry {
  private readonly drivers = new Map<CloudProvider, CloudDriver>();

  constructor(drivers: readonly CloudDriver[] = []) {
    for (const d of drivers) this.register(d);
  }

  register(d: CloudDriver): void {
    this.drivers.set(d.provider, d);
  }

  get(provider: CloudProvider): CloudDriver {
    const d = this.drivers.get(provider);
    if (!d) throw new ApiError('not_supported', `Skydeck has no driver for ${provider} yet`, { provider });
    return d;
  }

  has(provider: string): boolean {
    return this.drivers.has(provider as CloudProvider);
  }

  all(): CloudDriver[] {
    return [...this.drivers.values()];
  }
}

export function defaultCloudDrivers(): CloudDriver[] {
  return [
    awsDriver,
    aliyunDriver,
    tencentDriver,
    azureDriver,
  ];
}
