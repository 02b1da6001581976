import { randomBytes, randomUUID, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type Database from 'better-sqlite3';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ApiError } from '@shared/errors';
import { CONSOLE_CLOSE, TERMINAL_SUBPROTOCOL, type ConsoleKind, type ConsoleTicket } from '@shared/contract/consoles';
import type { ParsedInput } from '@shared/contract';
import type { Logger } from '../log/logger';
import type { Vault } from '../vault/vault';
import type { KvmService } from '../kvm/service';
import { domainUuid } from '../kvm/driver';
import { toSshAuth, vncSecretId } from '../kvm/credentials';
import { connectSsh, shq, type Ssh2Session } from '../hosts/ssh/session';
import { bridgeRaw, bridgeTerminal, closeReason, type BridgeStats, type PtyStream } from './bridge';
import { acceptClientWithoutAuth, authenticateToServer } from './rfb';
import { cloudGuestOf, prepareCloudVnc, type CloudConsoleSource } from './cloud-vnc';

/**
 * Console sessions: `open` checks the target and hands out a one-time ticket; the WebSocket upgrade that presents it
 * (on the headless server's port, or the desktop app's loopback console listener) gets the stream: the guest's VNC
 * display through an SSH forward on its host's existing connection, a serial console (`virsh console`) or a shell on
 * a PTY channel of that same connection, or an SSH session to a guest tunnelled through its host. No console opens a
 * new SSH connection to a host.
 */

export const TICKET_TTL_MS = 30_000;
export const TICKET_PATH_PREFIX = '/api/v1/consoles/';
/** Statuses in which a guest's domain may be running (and so has a display and a serial line). */
const LIVE_STATUSES = new Set(['running', 'suspended', 'rebooting', 'stopping', 'suspending', 'resuming', 'starting', 'reboot_failed', 'stop_failed', 'suspend_failed', 'resume_failed', 'unknown']);


interface GuestRow {
  id: string;
  name: string;
  provider: string;
  status: string;
  host_id: string | null;
  external_id: string | null;
  ips: string;
  stale: number;
}

type Connector = { protocol: 'rfb'; connect(): Promise<{ remote: Duplex; proxyPassword: string | null }> } | { protocol: 'terminal'; connect(): Promise<PtyStream> };

interface Session {
  id: string;
  kind: ConsoleKind;
  title: string;
  targetId: string;
  actor: string;
  openedAt: string;
  state: 'waiting' | 'open' | 'closed';
  stats: BridgeStats;
  ticketHash: string | null;
  expiry: NodeJS.Timeout | null;
  connector: Connector;
  /** Resources held between open and the upgrade (a guest SSH connection): released if the ticket expires. */
  release: (() => void) | null;
  close: ((code: number, reason: string) => void) | null;
}

export interface ConsoleServiceOptions {
  db: Database.Database;
  kvm: KvmService;
  vault: Vault;
  logger: Logger;
  sshAuthSock: string | null;
  /** Cloud accounts, for the providers' own VNC consoles of cloud guests (cloud-vnc.ts); none: KVM guests only. */
  clouds?: CloudConsoleSource;
}

const hash = (ticket: string) => createHash('sha256').update(ticket).digest('base64url');

/** VNC servers listening on every address are reached on the host's loopback. */
function vncAddress(listen: string | null): string {
  if (!listen || listen === '0.0.0.0') return '127.0.0.1';
  if (listen === '::' || listen === '[::]') return '::1';
  return listen;
}

export class ConsoleService {
  private readonly log: Logger;
  private readonly byTicket = new Map<string, Session>();
  private readonly sessions = new Map<string, Session>();
  private readonly protocolOf = new WeakMap<IncomingMessage, string>();
  private readonly wss: WebSocketServer;
  private origin: string | null = null;

  constructor(private readonly o: ConsoleServiceOptions) {
    this.log = o.logger.scope('consoles');
    this.wss = new WebSocketServer({
      noServer: true,
      // Compression costs CPU on every VNC frame and buys little on already-encoded updates.
      perMessageDeflate: false,
      maxPayload: 4 << 20,
      handleProtocols: (offered, req) => {
        const want = this.protocolOf.get(req);
        return want && offered.has(want) ? want : false;
      },
    });
  }

  /** The desktop app's loopback console listener (`ws://127.0.0.1:PORT`); null: the UI's own origin serves consoles. */
  setOrigin(base: string | null): void {
    this.origin = base;
  }

  // ------------------------------------------------------------------------------------------------------------
  // open

  async open(input: ParsedInput<'consoles.open'>, actor: string): Promise<ConsoleTicket> {
    let kind: ConsoleKind = input.kind;
    let made: { title: string; targetId: string; connector: Connector; vnc: ConsoleTicket['vnc']; release?: () => void };
    switch (input.kind) {
      case 'vnc': {
        const cloud = this.o.clouds ? cloudGuestOf(this.o.db, input.guestId) : null;
        made = cloud ? await prepareCloudVnc({ clouds: this.o.clouds!, vault: this.o.vault }, cloud) : await this.prepareVnc(input.guestId);
        break;
      }
      case 'serial':
        made = this.prepareSerial(input.guestId, input.size);
        await this.hostSession(this.guest(input.guestId).host_id);
        break;
      case 'host-ssh':
        made = this.prepareHostShell(input.hostId, input.size);
        await this.hostSession(input.hostId);
        break;
      case 'guest-ssh':
        made = await this.prepareGuestSsh(input);
        break;
      default:
        kind = (input as { kind: ConsoleKind }).kind;
        throw new ApiError('validation', `unknown console kind ${String(kind)}`);
    }
    const ticket = randomBytes(32).toString('base64url');
    const s: Session = {
      id: randomUUID(),
      kind,
      title: made.title,
      targetId: made.targetId,
      actor,
      openedAt: new Date().toISOString(),
      state: 'waiting',
      stats: { bytesIn: 0, bytesOut: 0 },
      ticketHash: hash(ticket),
      expiry: null,
      connector: made.connector,
      release: made.release ?? null,
      close: null,
    };
    s.expiry = setTimeout(() => this.expire(s), TICKET_TTL_MS);
    s.expiry.unref();
    this.byTicket.set(s.ticketHash!, s);
    this.sessions.set(s.id, s);
    this.log.info('console ticket issued', { sessionId: s.id, kind, target: s.targetId, actor });
    const path = `${TICKET_PATH_PREFIX}${ticket}`;
    return {
      sessionId: s.id,
      kind,
      protocol: made.connector.protocol,
      path,
      url: this.origin ? `${this.origin}${path}` : null,
      expiresAt: new Date(Date.now() + TICKET_TTL_MS).toISOString(),
      title: made.title,
      vnc: made.vnc,
    };
  }

  /** The host's SSH session, up now or failing with why (host offline, credentials refused) within 15 s. */
  private async hostSession(hostId: string): Promise<import('../hosts/types').SshSession> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ApiError('unreachable', `host ${this.hostName(hostId)} did not answer over SSH within 15 s`, { reason: 'timeout' })), 15_000);
    });
    try {
      return await Promise.race([this.o.kvm.link(hostId).session(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private guest(id: string): GuestRow & { host_id: string } {
    const g = this.o.db.prepare('SELECT id, name, provider, status, host_id, external_id, ips, stale FROM guests WHERE id = ?').get(id) as GuestRow | undefined;
    if (!g) throw new ApiError('not_found', `no guest ${id}`, { id });
    if (g.provider !== 'kvm' || !g.host_id) throw new ApiError('not_supported', `guest ${g.name} is a ${g.provider} guest: its console is not reached through a KVM host`, { reason: 'provider' });
    return g as GuestRow & { host_id: string };
  }

  private hostName(hostId: string): string {
    return (this.o.db.prepare('SELECT name FROM hosts WHERE id = ?').get(hostId) as { name: string } | undefined)?.name ?? hostId;
  }

  private requireLive(g: GuestRow, what: string): void {
    if (!LIVE_STATUSES.has(g.status)) {
      throw new ApiError('conflict', `guest ${g.name} is not running (status ${g.status}): its ${what} exists only while it runs; start it first`, { reason: 'not_running', status: g.status });
    }
  }

  private async prepareVnc(guestId: string) {
    const g = this.guest(guestId);
    this.requireLive(g, 'display');
    const uuid = domainUuid({ externalId: g.external_id, name: g.name });
    let vnc;
    try {
      vnc = await this.o.kvm.call(g.host_id, 'domains.vnc', { uuid }, { timeoutMs: 10_000 });
    } catch (e) {
      if (ApiError.is(e) && e.code === 'not_found') throw new ApiError('not_found', `guest ${g.name} has no VNC display: add a VNC graphics device to its definition`, { reason: 'no_vnc' });
      throw e;
    }
    if (vnc.port === null || vnc.port <= 0) throw new ApiError('conflict', `guest ${g.name} has no VNC port: libvirt reports it only while the guest runs`, { reason: 'not_running', status: g.status });
    const port = vnc.port;
    const address = vncAddress(vnc.listen);
    const stored = vnc.passwordSet ? ((await this.o.vault.get(vncSecretId(g.id)))?.toString('utf8') ?? null) : null;
    const hostId = g.host_id;
    return {
      title: `${g.name} (${this.hostName(hostId)})`,
      targetId: g.id,
      vnc: { passwordSet: vnc.passwordSet, proxyAuth: stored !== null },
      connector: {
        protocol: 'rfb' as const,
        connect: async () => {
          const session = await this.hostSession(hostId);
          return { remote: await session.forwardTcp(address, port), proxyPassword: stored };
        },
      },
    };
  }

  private prepareSerial(guestId: string, size?: { cols: number; rows: number }) {
    const g = this.guest(guestId);
    this.requireLive(g, 'serial console');
    const uri = this.o.kvm.row(g.host_id).libvirt_uri;
    const uuid = domainUuid({ externalId: g.external_id, name: g.name });
    const hostId = g.host_id;
    return {
      title: `${g.name} · serial`,
      targetId: g.id,
      vnc: null,
      connector: {
        protocol: 'terminal' as const,
        connect: async () => {
          const session = await this.hostSession(hostId);
          // --force takes the console over from a stale holder (a closed tab whose virsh has not noticed yet).
          return (await session.shell!({ cols: size?.cols ?? 80, rows: size?.rows ?? 24, command: `virsh -c ${shq(uri)} console --force ${shq(uuid)}` })) as unknown as PtyStream;
        },
      },
    };
  }

  private prepareHostShell(hostId: string, size?: { cols: number; rows: number }) {
    const row = this.o.kvm.row(hostId);
    return {
      title: `${row.username}@${this.hostName(hostId)}`,
      targetId: hostId,
      vnc: null,
      connector: {
        protocol: 'terminal' as const,
        connect: async () => {
          const session = await this.hostSession(hostId);
          return (await session.shell!({ cols: size?.cols ?? 80, rows: size?.rows ?? 24 })) as unknown as PtyStream;
        },
      },
    };
  }

  /** Key of a guest's SSH host key in known_host_keys: guest addresses repeat across hosts' private networks. */
  private static guestKeyAddress(guestId: string, address: string): string {
    return `guest:${guestId}/${address}`;
  }

  private async prepareGuestSsh(i: Extract<ParsedInput<'consoles.open'>, { kind: 'guest-ssh' }>) {
    const g = this.guest(i.guestId);
    this.requireLive(g, 'SSH server');
    const address = i.address ?? g.ips.split(/[,\s]+/).find(Boolean);
    if (!address) throw new ApiError('validation', `guest ${g.name} has no known IP address: give one`, { issues: [{ path: 'address', message: 'the guest has no known address: give one', code: 'required' }] });
    const keyAddress = ConsoleService.guestKeyAddress(g.id, address);
    const known = this.o.db.prepare('SELECT fingerprint FROM known_host_keys WHERE address = ? AND port = ?').get(keyAddress, i.port) as { fingerprint: string } | undefined;
    if (known && i.acceptFingerprint && known.fingerprint !== i.acceptFingerprint) {
      // A changed key is never accepted from this dialog: the record has to be removed knowingly (the host's page).
      throw new ApiError('conflict', `the SSH host key of ${address} changed: expected ${known.fingerprint}, the admin accepted ${i.acceptFingerprint}`, { reason: 'host_key_changed', fingerprint: i.acceptFingerprint, expected: known.fingerprint });
    }
    const hostSession = await this.hostSession(g.host_id);
    const sock = await hostSession.forwardTcp(address, i.port).catch((e: unknown) => {
      if (ApiError.is(e)) throw new ApiError(e.code, `${e.message} (from host ${this.hostName(g.host_id)})`, e.details);
      throw e;
    });
    const auth = toSshAuth(i.auth.method === 'agent' ? { method: 'agent' } : i.auth, this.o.sshAuthSock);
    let session: Ssh2Session;
    try {
      session = await connectSsh({ address, port: i.port, username: i.username, auth, hostKeyFingerprint: known?.fingerprint ?? i.acceptFingerprint ?? null }, { sock, logger: this.o.logger, readyTimeoutMs: 20_000 });
    } catch (e) {
      sock.destroy();
      throw e;
    }
    if (!known) {
      this.o.db
        .prepare('INSERT INTO known_host_keys (address, port, algorithm, fingerprint, trusted_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (address, port) DO NOTHING')
        .run(keyAddress, i.port, session.hostKey.algorithm, session.hostKey.fingerprint, new Date().toISOString());
    }
    const size = i.size;
    let handed = false;
    return {
      title: `${i.username}@${g.name}`,
      targetId: g.id,
      vnc: null,
      release: () => {
        if (!handed) session.close();
      },
      connector: {
        protocol: 'terminal' as const,
        connect: async () => {
          handed = true;
          const pty = (await session.shell({ cols: size?.cols ?? 80, rows: size?.rows ?? 24 })) as unknown as PtyStream;
          pty.on('close', () => session.close());
          return pty;
        },
      },
    };
  }

  private expire(s: Session): void {
    if (s.state !== 'waiting') return;
    this.log.info('console ticket expired unused', { sessionId: s.id });
    this.forget(s);
  }

  private forget(s: Session): void {
    if (s.expiry) clearTimeout(s.expiry);
    if (s.ticketHash) this.byTicket.delete(s.ticketHash);
    s.ticketHash = null;
    s.state = 'closed';
    s.release?.();
    this.sessions.delete(s.id);
  }

  // ------------------------------------------------------------------------------------------------------------
  // the WebSocket

  /** Whether a request's path is a console ticket path (the caller has checked Host and Origin). */
  static isConsolePath(pathname: string): boolean {
    return pathname.startsWith(TICKET_PATH_PREFIX);
  }

  /** Takes an HTTP upgrade for a console. A wrong, used or expired ticket is refused with 401 before any upgrade. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const ticket = url.pathname.slice(TICKET_PATH_PREFIX.length);
    const s = /^[A-Za-z0-9_-]{43}$/.test(ticket) ? this.byTicket.get(hash(ticket)) : undefined;
    if (!s) {
      this.log.warn('console ticket refused', { remote: req.socket.remoteAddress });
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 41\r\n\r\nUnknown, used or expired console ticket.\n');
      return;
    }
    // One use: gone before anything else can present it.
    this.byTicket.delete(s.ticketHash!);
    s.ticketHash = null;
    if (s.expiry) clearTimeout(s.expiry);
    const protocol = s.connector.protocol === 'rfb' ? 'binary' : TERMINAL_SUBPROTOCOL;
    this.protocolOf.set(req, protocol);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (ws.protocol !== protocol) {
        ws.close(CONSOLE_CLOSE.failed, `use the WebSocket subprotocol ${protocol}`);
        this.forget(s);
        return;
      }
      s.state = 'open';
      void this.attach(s, ws);
    });
  }

  private async attach(s: Session, ws: WebSocket): Promise<void> {
    let closedEarly = false;
    const onEarlyClose = () => (closedEarly = true);
    ws.once('close', onEarlyClose);
    // What the browser sends while the remote end is being opened (keys typed at once, the first resize) is kept
    // and replayed to the bridge: ws drops messages nobody listens to.
    const early: [RawData, boolean][] = [];
    const keep = (d: RawData, binary: boolean) => early.push([d, binary]);
    ws.on('message', keep);
    const replay = () => {
      ws.off('message', keep);
      for (const [d, binary] of early.splice(0)) ws.emit('message', d, binary);
    };
    const onClose = ({ code, reason }: { code: number; reason: string }) => {
      this.log.info('console closed', { sessionId: s.id, code, reason, bytesIn: s.stats.bytesIn, bytesOut: s.stats.bytesOut });
      this.forget(s);
    };
    try {
      if (s.connector.protocol === 'rfb') {
        const { remote, proxyPassword } = await s.connector.connect();
        if (closedEarly) return void remote.destroy();
        let fromServer: Buffer = Buffer.alloc(0);
        let fromClient: Buffer = Buffer.alloc(0);
        if (proxyPassword !== null) {
          fromServer = await authenticateToServer(remote, proxyPassword);
          ws.off('message', keep); // the browser waits for our version before it says anything
          fromClient = await acceptClientWithoutAuth(ws);
        }
        ws.off('close', onEarlyClose);
        const b = bridgeRaw(ws, remote, { stats: s.stats, onClose });
        s.close = b.close;
        replay();
        if (fromServer.length) ws.send(fromServer);
        if (fromClient.length) remote.write(fromClient);
      } else {
        const pty = await s.connector.connect();
        if (closedEarly) return void pty.destroy();
        ws.off('close', onEarlyClose);
        const b = bridgeTerminal(ws, pty, { stats: s.stats, onClose, title: s.title, ...(s.kind === 'serial' ? { inputGate: { until: /Escape character[^\n]*\n/, timeoutMs: 5_000, settleMs: 300 } } : {}) });
        s.close = b.close;
        replay();
      }
      this.log.info('console open', { sessionId: s.id, kind: s.kind, target: s.targetId });
    } catch (e) {
      const err = ApiError.is(e) ? e : new ApiError('internal', (e as Error).message);
      const code =
        err.details?.reason === 'console_url_refused'
          ? CONSOLE_CLOSE.cloudUrlRefused
          : err.code === 'unreachable' || err.code === 'timeout'
          ? CONSOLE_CLOSE.unreachable
          : err.code === 'not_found'
            ? CONSOLE_CLOSE.notFound
            : err.code === 'conflict'
              ? CONSOLE_CLOSE.notRunning
              : err.code === 'forbidden' || err.code === 'unauthenticated'
                ? CONSOLE_CLOSE.refused
                : CONSOLE_CLOSE.failed;
      this.log.warn('console failed', { sessionId: s.id, kind: s.kind, error: err.message });
      if (ws.readyState === ws.OPEN) ws.close(code, closeReason(err.message));
      this.forget(s);
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // list / close

  list() {
    return {
      items: [...this.sessions.values()].map((s) => ({
        sessionId: s.id,
        kind: s.kind,
        title: s.title,
        targetId: s.targetId,
        state: s.state,
        openedAt: s.openedAt,
        bytesIn: s.stats.bytesIn,
        bytesOut: s.stats.bytesOut,
        actor: s.actor,
      })),
    };
  }

  close(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (!s) throw new ApiError('not_found', `no console session ${sessionId}`, { id: sessionId });
    if (s.close) s.close(CONSOLE_CLOSE.closedByUser, 'closed by the admin');
    else this.forget(s);
  }

  async setVncPassword(guestId: string, password: string | null): Promise<void> {
    // A cloud guest's VNC password (Alibaba Cloud's instance VNC password) is kept the same way.
    const g = cloudGuestOf(this.o.db, guestId) ?? this.guest(guestId);
    if (password === null) this.o.vault.delete(vncSecretId(g.id));
    else await this.o.vault.put(vncSecretId(g.id), 'guest-vnc', password);
  }

  closeAll(): void {
    for (const s of [...this.sessions.values()]) {
      if (s.close) s.close(1001, 'Skydeck is shutting down');
      else this.forget(s);
    }
    this.wss.close();
  }
}
