import type { VncRelay, VncRelayTarget } from '../vnc-relay.mjs';
import type { Agent } from 'node:http';

export type TencentService = 'cvm' | 'vpc' | 'cbs' | 'monitor';
export type TencentFaultKind =
  | 'throttle' // RequestLimitExceeded
  | 'throttle-uin' // RequestLimitExceeded.UinLimitExceeded
  | 'internal' // InternalError
  | 'unavailable' // ServiceUnavailable
  | 'http-502' // a gateway failure: HTTP 502 with an HTML body
  | 'http-503' // HTTP 503 with an HTML body
  | 'quota' // LimitExceeded.InstanceQuota
  | 'zone-type' // ResourcesSoldOut.SpecifiedInstanceType
  | 'region' // UnsupportedRegion
  | 'forbidden' // UnauthorizedOperation
  | 'reset'; // the connection is destroyed without an answer
export interface TencentFault {
  kind: TencentFaultKind;
  /** Only these actions (default: any). */
  action?: string | string[];
  service?: TencentService;
  /** How many matching requests fail (default 1; Infinity for all). */
  times?: number;
  /** Override the preset's HTTP status (200 = an API error in the JSON body), Code or Message. */
  status?: number;
  code?: string;
  message?: string;
}
export interface TencentRecordedRequest {
  time: number;
  method: string;
  host: string;
  service: string;
  action: string;
  version: string;
  region: string;
  /** The JSON body (POST) or the unflattened query (GET). */
  params: any;
  /** The verified SecretId. */
  secretId: string | null;
  status: number;
  /** The error Code answered, 'HTTP 502' …, or 'reset'. */
  code: string | null;
}
export interface TencentFakeOptions {
  /** The VNC server DescribeInstanceVncUrl's one-time ws:// URL is relayed to (default none: set it with vnc.setTarget). */
  vnc?: VncRelayTarget;
  /** How long a VNC URL is valid (default 15 s). */
  vncUrlTtlMs?: number;
  seed?: number;
  /** Instances spread round-robin over the regions (default 10000). */
  instances?: number;
  /** How many of ap-guangzhou, ap-shanghai, ap-beijing, ap-singapore, na-siliconvalley (default 5). */
  regions?: number;
  secretId?: string;
  secretKey?: string;
  /** More SecretId → SecretKey pairs. */
  accounts?: Record<string, string>;
  /** PENDING/STARTING/STOPPING/REBOOTING settle after this (default 0: at the next read). */
  transitionMs?: number;
  /** Accepted X-TC-Timestamp skew (default 5 minutes). */
  clockSkewMs?: number;
  /** Instances per region before RunInstances answers LimitExceeded.InstanceQuota (default unlimited). */
  instanceQuota?: number;
}
export interface TencentFake {
  port: number;
  url: string;
  /** 127.0.0.1:PORT (the service is then taken from the credential scope). */
  endpoint: string;
  /** For profile.httpProfile.endpoint with protocol 'http://' and agent: `fake.agent`. */
  endpoints: Record<TencentService, string>;
  /** Resolves *.tencentcloudapi.com to 127.0.0.1 (profile.httpProfile.agent). */
  agent: Agent;
  secretId: string;
  secretKey: string;
  regions: string[];
  requests: TencentRecordedRequest[];
  inject(fault: TencentFault): number;
  clearFaults(): void;
  state: {
    instances(): any[];
    instance(id: string): any | undefined;
    disks(): any[];
    snapshots(): any[];
    addresses(): any[];
    securityGroupPolicies(id: string): { Version: string; Ingress: any[]; Egress: any[] } | undefined;
    vpcs(): any[];
    subnets(): any[];
    securityGroups(): any[];
    keyPairs(): any[];
  };
  /** The console proxy behind DescribeInstanceVncUrl: its target and what it issued, relayed and refused. */
  vnc: VncRelay;
  close(): Promise<void>;
}
export const DEFAULT_SECRET_ID: string;
export const DEFAULT_SECRET_KEY: string;
export const TENCENT_FAULTS: Record<Exclude<TencentFaultKind, 'reset'>, [number, string, string]>;
export function startTencentFake(opts?: TencentFakeOptions): Promise<TencentFake>;
