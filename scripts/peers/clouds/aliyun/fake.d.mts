import type { VncRelay, VncRelayTarget } from '../vnc-relay.mjs';
export type AliyunProduct = 'ecs' | 'vpc' | 'cms';
export type AliyunFaultKind =
  | 'throttle' // 400 Throttling.User
  | 'throttle-api' // 400 Throttling.Api
  | 'throttling' // 400 Throttling (ECS)
  | 'throttling-503' // 503 Throttling (as some products answer it)
  | 'unavailable' // 503 ServiceUnavailable
  | 'internal' // 500 InternalError
  | 'quota' // 403 QuotaExceed.ElasticQuota
  | 'zone-type' // 403 InvalidResourceType.NotSupported
  | 'no-stock' // 403 OperationDenied.NoStock
  | 'region' // 404 InvalidRegionId.NotFound
  | 'forbidden' // 403 Forbidden.RAM
  | 'reset'; // the connection is destroyed without an answer
export interface AliyunFault {
  kind: AliyunFaultKind;
  /** Only these actions (default: any). */
  action?: string | string[];
  product?: AliyunProduct;
  /** How many matching requests fail (default 1; Infinity for all). */
  times?: number;
  /** Override the preset's HTTP status, Code or Message. */
  status?: number;
  code?: string;
  message?: string;
  /** Sends x-acs-retry-after (the SDK's ThrottlingError.retryAfter). */
  retryAfterMs?: number;
}
export interface AliyunRecordedRequest {
  time: number;
  method: string;
  host: string;
  product: AliyunProduct | null;
  action: string;
  version: string;
  /** Query and form parameters, flattened (Tag.1.Key …). */
  params: Record<string, string>;
  /** How it was signed, once verified. */
  signature: 'ACS3-HMAC-SHA256' | 'HMAC-SHA1' | null;
  accessKeyId: string | null;
  status: number;
  /** The error Code answered, 'reset' for a dropped connection. */
  code: string | null;
}
export interface AliyunFakeOptions {
  /** The VNC server DescribeInstanceVncUrl's one-time ws:// URL is relayed to (default none: set it with vnc.setTarget). */
  vnc?: VncRelayTarget;
  /** How long a VNC URL is valid (default 15 s). */
  vncUrlTtlMs?: number;
  /** Deterministic world seed (default 1). */
  seed?: number;
  /** Instances spread round-robin over the regions (default 10000). */
  instances?: number;
  /** How many of cn-hangzhou, cn-shanghai, cn-beijing, ap-southeast-1, us-west-1 (default 5). */
  regions?: number;
  accessKeyId?: string;
  accessKeySecret?: string;
  /** More access key id → secret pairs. */
  accounts?: Record<string, string>;
  /** Starting/Stopping/Pending settle after this (default 0: at the next read). */
  transitionMs?: number;
  /** Accepted x-acs-date / Timestamp skew (default 15 minutes). */
  clockSkewMs?: number;
  /** Instances per region before RunInstances answers QuotaExceed.ElasticQuota (default unlimited). */
  instanceQuota?: number;
  /** DescribePrice's Currency (the account's site: CNY on the China site, USD on the international one; default CNY). */
  currency?: string;
  /** Reject parameters the operation does not define (default true). */
  strictParams?: boolean;
}
export interface AliyunFake {
  /** host:port for the SDK's Config.endpoint (with protocol 'HTTP'); ECS and VPC share it (routed by version). */
  endpoint: string;
  url: string;
  port: number;
  accessKeyId: string;
  accessKeySecret: string;
  regions: string[];
  requests: AliyunRecordedRequest[];
  /** Answers the fault's id. */
  inject(fault: AliyunFault): number;
  clearFaults(): void;
  /** The fake's current state, as the API would show it. */
  state: {
    instances(): any[];
    instance(id: string): any | undefined;
    disks(): any[];
    snapshots(): any[];
    eips(): any[];
    securityGroupRules(securityGroupId: string): any[];
    vpcs(): any[];
    vswitches(): any[];
    securityGroups(): any[];
  };
  /** The console proxy behind DescribeInstanceVncUrl: its target and what it issued, relayed and refused. */
  vnc: VncRelay;
  close(): Promise<void>;
}
export const DEFAULT_ACCESS_KEY_ID: string;
export const DEFAULT_ACCESS_KEY_SECRET: string;
export const ALIYUN_FAULTS: Record<Exclude<AliyunFaultKind, 'reset'>, [number, string, string]>;
export function startAliyunFake(opts?: AliyunFakeOptions): Promise<AliyunFake>;
