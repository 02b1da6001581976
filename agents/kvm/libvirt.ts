import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RPC_LIBVIRT, RPC_NOT_FOUND, RPC_STATE } from '@shared/agent/protocol';
import { AgentError } from './errors';
import type { Logger } from './log';
import { VirshError, VirshSession, type RunOptions } from './virsh';

export type DomainRef = { uuid: string } | { name: string };

/** How virsh's error text maps to the protocol's codes (the text itself goes along as data.virsh). */
const NOT_FOUND = [
  /failed to get (domain|pool|vol|network|snapshot)/i,
  /\b(Domain|Storage pool|Storage volume|Network|Domain snapshot) not found/i,
  /no (domain|storage pool|storage vol|network|domain snapshot) with matching/i,
  /has no current snapshot/i,
  /No disk found whose source path or target is/i,
  /No interface with MAC address/i,
  /No device found for specified path/i,
];
const STATE = [
  /domain is not running/i,
  /Requested operation is not valid/i,
  /\bnot paused\b/i,
  /is already (active|running)/i,
  /domain is not active/i,
  /is not active/i,
  /already paused/i,
];

export function mapVirshError(e: unknown): unknown {
  if (!(e instanceof VirshError)) return e;
  const code = NOT_FOUND.some((r) => r.test(e.virsh)) ? RPC_NOT_FOUND : STATE.some((r) => r.test(e.virsh)) ? RPC_STATE : RPC_LIBVIRT;
  return new AgentError(code, e.message, { virsh: e.virsh });
}

export const isNotFound = (e: unknown): boolean => e instanceof AgentError && e.code === RPC_NOT_FOUND;
/** libvirt answers this for APIs a driver lacks (the test driver has no device hot-plug). */
export const isUnsupported = (e: unknown): boolean => e instanceof AgentError && /not supported by the connection driver|unsupported flags/i.test(String((e.data as { virsh?: string } | undefined)?.virsh ?? e.message));

export const domainKey = (ref: DomainRef): string => ('uuid' in ref ? ref.uuid : ref.name);

/** One libvirt connection (URI): its virsh session, error mapping, and XML handed over through private temp files. */
export class Libvirt {
  readonly session: VirshSession;

  constructor(readonly o: { uri: string; log: Logger; tmpDir: string; virsh?: string }) {
    this.session = new VirshSession({ uri: o.uri, log: o.log, ...(o.virsh ? { virsh: o.virsh } : {}) });
  }

  get uri(): string {
    return this.o.uri;
  }

  /** libvirt's test driver: state lives in one process only, and there is no event stream from other processes. */
  get isTestDriver(): boolean {
    return this.o.uri.startsWith('test:');
  }

  async virsh(args: string[], opts?: RunOptions): Promise<string> {
    try {
      return await this.session.run(args, opts);
    } catch (e) {
      throw mapVirshError(e);
    }
  }

  /** Runs fn with a file holding text (XML): virsh reads files on its own side, so only this process sees it. */
  async withTempFile<T>(text: string, fn: (path: string) => Promise<T>): Promise<T> {
    await mkdir(this.o.tmpDir, { recursive: true, mode: 0o700 });
    const path = join(this.o.tmpDir, `${randomBytes(8).toString('hex')}.xml`);
    await writeFile(path, text, { mode: 0o600 });
    try {
      return await fn(path);
    } finally {
      await rm(path, { force: true });
    }
  }

  close(): void {
    this.session.close();
  }
}
