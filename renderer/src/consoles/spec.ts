import type { ConsoleKind, ConsoleOpenInput } from '@shared/contract/consoles';

/** How Skydeck logs in to a guest over SSH; the secrets live only in memory (the tab's spec), never in storage. */
export type GuestSshAuth = Extract<ConsoleOpenInput, { kind: 'guest-ssh' }>['auth'];

/** What a console tab shows: enough to ask consoles.open for a fresh ticket at any time. */
export type ConsoleSpec =
  | { kind: 'vnc'; guestId: string }
  | { kind: 'serial'; guestId: string }
  | { kind: 'host-ssh'; hostId: string }
  | { kind: 'guest-ssh'; guestId: string; address?: string; port: number; username: string; auth: GuestSshAuth; acceptFingerprint?: string };

export const isTerminalKind = (kind: ConsoleKind): boolean => kind !== 'vnc';

/** The guest or host the console belongs to. */
export function targetOf(spec: ConsoleSpec): { kind: 'guest' | 'host'; id: string } {
  return spec.kind === 'host-ssh' ? { kind: 'host', id: spec.hostId } : { kind: 'guest', id: spec.guestId };
}

/** consoles.open's input for a spec, with the terminal's size when known. */
export function openInput(spec: ConsoleSpec, size?: { cols: number; rows: number } | null): ConsoleOpenInput {
  const sz = size ? { size: { cols: Math.max(2, Math.min(1000, size.cols)), rows: Math.max(1, Math.min(1000, size.rows)) } } : {};
  switch (spec.kind) {
    case 'vnc':
      return { kind: 'vnc', guestId: spec.guestId };
    case 'serial':
      return { kind: 'serial', guestId: spec.guestId, ...sz };
    case 'host-ssh':
      return { kind: 'host-ssh', hostId: spec.hostId, ...sz };
    case 'guest-ssh':
      return {
        kind: 'guest-ssh',
        guestId: spec.guestId,
        ...(spec.address ? { address: spec.address } : {}),
        port: spec.port,
        username: spec.username,
        auth: spec.auth,
        ...(spec.acceptFingerprint ? { acceptFingerprint: spec.acceptFingerprint } : {}),
        ...sz,
      };
  }
}

/**
 * Tabs that may exist once per target: a guest's display and its serial port are single devices (a second viewer of
 * the same serial port would steal its input). SSH terminals may be opened as often as wanted.
 */
export function singletonKey(spec: ConsoleSpec): string | null {
  if (spec.kind === 'vnc' || spec.kind === 'serial') return `${spec.kind}:${spec.guestId}`;
  return null;
}

/**
 * The standalone console window's address query: no secret ever goes into it. A guest SSH console carries its
 * address, port and user; its credentials are handed over through the opener (see handoff) or typed again.
 */
export function specQuery(spec: ConsoleSpec): Record<string, string> {
  switch (spec.kind) {
    case 'vnc':
    case 'serial':
      return { kind: spec.kind, guestId: spec.guestId };
    case 'host-ssh':
      return { kind: spec.kind, hostId: spec.hostId };
    case 'guest-ssh':
      return { kind: spec.kind, guestId: spec.guestId, ...(spec.address ? { address: spec.address } : {}), port: String(spec.port), username: spec.username };
  }
}

type Query = Record<string, unknown>;
const str = (q: Query, k: string): string | null => {
  const v = Array.isArray(q[k]) ? (q[k] as unknown[])[0] : q[k];
  return typeof v === 'string' && v.trim() ? v.trim() : null;
};

/** What a standalone window's query asks for; a guest SSH console without credentials comes back as `needsAuth`. */
export type QuerySpec = { spec: ConsoleSpec } | { needsAuth: { guestId: string; address: string | null; port: number; username: string | null } } | null;

export function specFromQuery(q: Query): QuerySpec {
  const kind = str(q, 'kind');
  const guestId = str(q, 'guestId');
  const hostId = str(q, 'hostId');
  if ((kind === 'vnc' || kind === 'serial') && guestId) return { spec: { kind, guestId } };
  if (kind === 'host-ssh' && hostId) return { spec: { kind, hostId } };
  if (kind === 'guest-ssh' && guestId) {
    const port = Number(str(q, 'port') ?? '22');
    return { needsAuth: { guestId, address: str(q, 'address'), port: Number.isInteger(port) && port > 0 && port < 65536 ? port : 22, username: str(q, 'username') } };
  }
  return null;
}
