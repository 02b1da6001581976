/** The words a seeded inventory is made of: teams and their apps, OS strings, host shapes, clouds. */

export const ENVS = [
  ['prod', 55],
  ['staging', 25],
  ['dev', 20],
] as const;
export type Env = (typeof ENVS)[number][0];

/** Team → weight and the apps it runs (an app name prefixes its guests: web-prod-0042). */
export const TEAMS: Record<string, { weight: number; apps: readonly string[] }> = {
  payments: { weight: 16, apps: ['api', 'web', 'db', 'cache', 'mq', 'worker'] },
  search: { weight: 12, apps: ['search', 'indexer', 'api', 'cache'] },
  identity: { weight: 8, apps: ['auth', 'api', 'db', 'ldap'] },
  platform: { weight: 18, apps: ['gw', 'ci', 'registry', 'mon', 'log'] },
  data: { weight: 16, apps: ['etl', 'kafka', 'hdfs', 'spark', 'db'] },
  ml: { weight: 8, apps: ['gpu', 'train', 'infer', 'notebook'] },
  growth: { weight: 12, apps: ['web', 'api', 'cron', 'redis'] },
  edge: { weight: 10, apps: ['cdn', 'dns', 'proxy', 'lb'] },
};
export const TEAM_NAMES = Object.keys(TEAMS);

/** Guest size by what the app does: [vcpu, memory GiB] choices with weights. */
const SMALL = [[[1, 2], 10], [[2, 4], 30], [[2, 8], 20], [[4, 8], 25], [[4, 16], 10], [[8, 16], 5]] as const;
const BIG = [[[8, 32], 25], [[16, 64], 35], [[16, 128], 15], [[32, 128], 15], [[32, 256], 10]] as const;
const MEMORY = [[[2, 16], 30], [[4, 32], 40], [[8, 64], 30]] as const;
/** Apps that keep data: bigger guests with more data disks. */
export function dataHeavy(app: string): boolean {
  return ['db', 'kafka', 'hdfs', 'spark', 'train', 'gpu', 'search', 'ldap', 'cache', 'redis', 'indexer', 'infer'].includes(app);
}
export function sizeClass(app: string): readonly (readonly [readonly [number, number], number])[] {
  if (['db', 'kafka', 'hdfs', 'spark', 'train', 'gpu', 'search', 'ldap'].includes(app)) return BIG;
  if (['cache', 'redis', 'indexer', 'infer'].includes(app)) return MEMORY;
  return SMALL;
}

export const GUEST_OS = [
  ['Ubuntu 22.04 LTS', 25],
  ['Ubuntu 24.04 LTS', 15],
  ['Debian 12', 12],
  ['Rocky Linux 9.4', 12],
  ['CentOS 7.9', 8],
  ['RHEL 9.3', 8],
  ['Windows Server 2022', 6],
  ['Windows Server 2019', 4],
  ['openEuler 22.03 LTS', 5],
  ['AlmaLinux 9.4', 5],
] as const;

export const GUEST_STATUS = [
  ['running', 84],
  ['ready', 9],
  ['suspended', 3],
  ['start_failed', 1.5],
  ['stop_failed', 0.5],
  ['unknown', 0.5],
  ['reboot_failed', 0.3],
] as const;

/** Host shapes: logical cores, memory GiB, local storage TB. */
export interface HostShape {
  cores: number;
  memGb: number;
  diskTb: number;
}
export const HOST_SHAPES: readonly (readonly [HostShape, number])[] = [
  [{ cores: 16, memGb: 64, diskTb: 1.92 }, 5],
  [{ cores: 24, memGb: 128, diskTb: 1.92 }, 10],
  [{ cores: 32, memGb: 192, diskTb: 3.84 }, 15],
  [{ cores: 32, memGb: 256, diskTb: 3.84 }, 15],
  [{ cores: 48, memGb: 384, diskTb: 7.68 }, 20],
  [{ cores: 64, memGb: 512, diskTb: 7.68 }, 18],
  [{ cores: 96, memGb: 768, diskTb: 15.36 }, 10],
  [{ cores: 128, memGb: 1024, diskTb: 15.36 }, 7],
];

export const CPU_MODELS: Record<number, readonly string[]> = {
  16: ['Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz', 'AMD EPYC 7313P 16-Core Processor'],
  24: ['AMD EPYC 7443 24-Core Processor', 'Intel(R) Xeon(R) Gold 5318Y CPU @ 2.10GHz'],
  32: ['Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz', 'AMD EPYC 7543 32-Core Processor'],
  48: ['AMD EPYC 7643 48-Core Processor', 'Intel(R) Xeon(R) Platinum 8360Y CPU @ 2.40GHz'],
  64: ['AMD EPYC 7763 64-Core Processor', 'Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz'],
  96: ['AMD EPYC 9654 96-Core Processor', 'AMD EPYC 9474F 48-Core Processor'],
  128: ['AMD EPYC 9754 128-Core Processor', 'Ampere(R) Altra(R) Max Processor M128-30'],
};

export const HYPERVISORS = [
  ['kvm', 70],
  ['esxi', 20],
  ['baremetal', 10],
] as const;

/** On-premises data centres: region → zones. */
export const DATACENTRES = [
  { region: 'cn-beijing-dc1', short: 'bj1', zones: ['a', 'b', 'c'] },
  { region: 'cn-shanghai-dc2', short: 'sh2', zones: ['a', 'b', 'c'] },
  { region: 'eu-frankfurt-dc3', short: 'fra3', zones: ['a', 'b'] },
] as const;

export interface CloudDef {
  name: string;
  provider: 'aws' | 'aliyun' | 'tencent' | 'azure';
  weight: number;
  regions: Record<string, readonly string[]>;
  types: readonly (readonly [string, number, number])[];
  os: readonly string[];
  diskFormat: string;
}

export const CLOUDS: readonly CloudDef[] = [
  {
    name: 'aws-prod',
    provider: 'aws',
    weight: 35,
    regions: { 'us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c'], 'eu-west-1': ['eu-west-1a', 'eu-west-1b'], 'ap-northeast-1': ['ap-northeast-1a', 'ap-northeast-1c'] },
    types: [['t3.medium', 2, 4], ['t3.large', 2, 8], ['m6i.large', 2, 8], ['m6i.xlarge', 4, 16], ['m6i.2xlarge', 8, 32], ['c6i.4xlarge', 16, 32], ['r6i.2xlarge', 8, 64]],
    os: ['Amazon Linux 2023', 'Amazon Linux 2', 'Ubuntu 22.04 LTS', 'Windows Server 2022'],
    diskFormat: 'gp3',
  },
  {
    name: 'aws-sandbox',
    provider: 'aws',
    weight: 10,
    regions: { 'us-west-2': ['us-west-2a', 'us-west-2b'] },
    types: [['t3.micro', 2, 1], ['t3.small', 2, 2], ['t3.medium', 2, 4], ['t3.large', 2, 8]],
    os: ['Amazon Linux 2023', 'Ubuntu 24.04 LTS'],
    diskFormat: 'gp3',
  },
  {
    name: 'aliyun-cn',
    provider: 'aliyun',
    weight: 25,
    regions: { 'cn-hangzhou': ['cn-hangzhou-h', 'cn-hangzhou-i', 'cn-hangzhou-j'], 'cn-beijing': ['cn-beijing-g', 'cn-beijing-h'] },
    types: [['ecs.g7.large', 2, 8], ['ecs.g7.xlarge', 4, 16], ['ecs.c7.2xlarge', 8, 16], ['ecs.r7.xlarge', 4, 32]],
    os: ['Alibaba Cloud Linux 3', 'CentOS 7.9', 'Ubuntu 22.04 LTS'],
    diskFormat: 'cloud_essd',
  },
  {
    name: 'tencent-gz',
    provider: 'tencent',
    weight: 15,
    regions: { 'ap-guangzhou': ['ap-guangzhou-3', 'ap-guangzhou-4', 'ap-guangzhou-6'], 'ap-shanghai': ['ap-shanghai-2', 'ap-shanghai-5'] },
    types: [['S5.MEDIUM4', 2, 4], ['S5.LARGE8', 4, 8], ['S5.2XLARGE16', 8, 16], ['M5.LARGE32', 4, 32]],
    os: ['TencentOS Server 3.1', 'CentOS 7.9', 'Ubuntu 22.04 LTS'],
    diskFormat: 'CLOUD_PREMIUM',
  },
  {
    name: 'azure-eu',
    provider: 'azure',
    weight: 15,
    regions: { westeurope: ['westeurope-1', 'westeurope-2', 'westeurope-3'], northeurope: ['northeurope-1', 'northeurope-2'] },
    types: [['Standard_B2s', 2, 4], ['Standard_D2s_v5', 2, 8], ['Standard_D4s_v5', 4, 16], ['Standard_E8s_v5', 8, 64]],
    os: ['Ubuntu 22.04 LTS', 'Windows Server 2022', 'RHEL 9.3'],
    diskFormat: 'Premium_LRS',
  },
];

export const IMAGES = [
  ['ubuntu-22.04-server-cloudimg', 'Ubuntu 22.04 LTS', 2.2],
  ['ubuntu-24.04-server-cloudimg', 'Ubuntu 24.04 LTS', 2.4],
  ['debian-12-genericcloud', 'Debian 12', 0.4],
  ['rocky-9.4-genericcloud', 'Rocky Linux 9.4', 1.1],
  ['centos-7.9-2009', 'CentOS 7.9', 0.9],
  ['rhel-9.3-kvm', 'RHEL 9.3', 0.9],
  ['windows-server-2022-datacenter', 'Windows Server 2022', 11.5],
  ['windows-server-2019-datacenter', 'Windows Server 2019', 10.8],
  ['openeuler-22.03-lts-sp3', 'openEuler 22.03 LTS', 1.6],
  ['almalinux-9.4-genericcloud', 'AlmaLinux 9.4', 0.6],
] as const;

export const PEOPLE = ['alice', 'bob', 'chen.wei', 'dmitri', 'fatima', 'li.na', 'marco', 'priya', 'sven', 'yuki', 'zhang.min', 'oleg'];
