import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export interface VncRelayTarget {
  host: string;
  port: number;
}
export interface VncRelay {
  stats: { issued: number; relayed: number; refused: string[] };
  setTarget(t: VncRelayTarget | null): void;
  issue(base: string, instanceId: string): string;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
}
export function createVncRelay(o: { path: string; ttlMs?: number; target?: VncRelayTarget | null }): VncRelay;
