export const FAKE_ACCESS_KEY: string;
export const FAKE_SECRET_KEY: string;
export const FAKE_OWNER: string;
export interface AwsFakeOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Regions the account has (default us-east-1, eu-west-1, ap-southeast-1). */
  regions?: string[];
  /** Instances per region (default: `defaultInstances` in the first region, 3 elsewhere). */
  instances?: Record<string, number>;
  defaultInstances?: number;
  namePrefix?: string;
  /** How long pending/stopping/shutting-down last (ms, default 20). */
  transitionMs?: number;
  /** RunInstances beyond this many non-terminated instances fails with InstanceLimitExceeded. */
  instanceLimit?: number;
  /** Instance types RunInstances accepts; others fail with Unsupported. */
  offeredTypes?: string[];
  /** CloudWatch GetMetricData: datapoints per response before NextToken (default 100,800, CloudWatch's own). */
  metricsPageSize?: number;
  /** Price List GetProducts: products per response before NextToken (default 100; MaxResults may ask fewer). */
  pricingPageSize?: number;
}
export interface FakeInstance {
  id: string;
  imageId: string;
  state: string;
  type: string;
  zone: string;
  subnetId: string;
  vpcId: string;
  privateIp: string;
  publicIp: string | null;
  mac: string;
  keyName: string | null;
  groups: string[];
  launchTime: string;
  tags: Record<string, string>;
  disableApiTermination: boolean;
  volumes: { volumeId: string; device: string }[];
}
export interface FakeRegion {
  name: string;
  instances: Map<string, FakeInstance>;
  volumes: Map<string, { id: string; sizeGb: number; zone: string; instanceId: string | null; device: string | null; tags: Record<string, string> }>;
  snapshots: Map<string, { id: string; volumeId: string; sizeGb: number }>;
  addresses: Map<string, { allocationId: string; publicIp: string; instanceId: string | null; associationId: string | null }>;
  groups: Map<string, { id: string; name: string; ingress: { protocol: string; from: number; to: number; cidr: string; description: string }[] }>;
  subnets: Map<string, { id: string; vpcId: string; cidr: string; zone: string }>;
  images: Map<string, { id: string; name: string }>;
  keypairs: Map<string, { id: string; name: string }>;
}
export interface AwsFake {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  regions: string[];
  stats: {
    requests: number;
    byAction: Record<string, number>;
    rejectedSignatures: number;
    throttled: number;
    failed5xx: number;
    /** Verified requests per signing service (ec2, monitoring, pricing). */
    byService: Record<string, number>;
    /** MetricDataQueries per GetMetricData call, in order. */
    metricQueries: number[];
    /** The Filters of each GetProducts call, in order. */
    pricingFilters: { Type: string; Field: string; Value: string }[][];
  };
  region(name: string): FakeRegion;
  /** Fails the next `count` matching requests: throttling (EC2 RequestLimitExceeded 503; CloudWatch Throttling 400; Pricing ThrottlingException 400) or a 5xx. */
  inject(x: { kind: 'throttle' | '5xx'; service?: 'ec2' | 'monitoring' | 'pricing'; action?: string; region?: string; count?: number; retryAfterSeconds?: number; status?: number }): void;
  clearInjections(): void;
  addCredentials(accessKeyId: string, secret: string): void;
  expire(accessKeyId: string): void;
  deny(accessKeyId: string, actions: string[]): void;
  close(): Promise<void>;
}
export function startAwsFake(o?: AwsFakeOptions): Promise<AwsFake>;
/** AWS/EC2 basic monitoring: one sample every 300 s. */
export const EC2_SAMPLE_SECONDS: number;
export const EC2_METRICS: string[];
/** The fake's raw AWS/EC2 sample for the 5-minute slot starting at tSec (CPUUtilization %, byte counters: bytes in the slot). */
export function ec2MetricSample(instanceId: string, metric: string, tSec: number): number | null;
/** The fake's on-demand Linux/Shared price (USD/h) of a type in a region, or null. */
export function ec2Price(type: string, region: string): number | null;
