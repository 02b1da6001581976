import { z } from 'zod';
import { command } from './define';
import { idSchema, isoTime, ok } from './common';
import { fingerprintSchema, hostAddressSchema, sshPortSchema, sshUserSchema } from './kvm';

/**
 * Consoles: a guest's VNC display, a guest's serial console, an SSH terminal to a host or (through the host) to a guest.
 *
 * `consoles.open` checks everything it can before a byte flows (guest running, VNC device present, host online, SSH
 * credentials and host key) and answers a one-time ticket: the renderer opens a WebSocket to `url` (desktop: an absolute
 * ws://127.0.0.1 address of the main process' console listener) or to `path` on its own origin (headless server). The
 * ticket is 32 random bytes, valid once and for 30 seconds. The WebSocket carries:
 *  - `rfb` (subprotocol `binary`): the raw RFB stream to the guest's VNC server, tunnelled through the host's SSH
 *    connection. When Skydeck holds the guest's VNC password the proxy answers the VNC authentication itself and offers
 *    the browser "no authentication": the password never reaches the renderer.
 *  - `terminal` (subprotocol `skydeck.terminal.v1`, see TERMINAL_PROTOCOL below).
 * Errors after the upgrade close the socket with a 4xxx code (CONSOLE_CLOSE) and a human reason.
 */

export const CONSOLE_KINDS = ['vnc', 'serial', 'host-ssh', 'guest-ssh'] as const;
export type ConsoleKind = (typeof CONSOLE_KINDS)[number];

const guestSshAuth = z.discriminatedUnion('method', [
  z.object({ method: z.literal('password'), password: z.string().min(1, 'a password is required').max(1024) }).strict(),
  z.object({ method: z.literal('key'), privateKey: z.string().min(1, 'paste the private key').max(65_536), passphrase: z.string().max(1024).optional() }).strict(),
  z.object({ method: z.literal('agent') }).strict(),
]);

export const consoleSize = z
  .object({
    cols: z.number().int().min(2, 'at least 2 columns').max(1000, 'at most 1000 columns'),
    rows: z.number().int().min(1, 'at least 1 row').max(1000, 'at most 1000 rows'),
  })
  .strict();

export const consoleOpenInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('vnc'), guestId: idSchema }).strict(),
  z.object({ kind: z.literal('serial'), guestId: idSchema, size: consoleSize.optional() }).strict(),
  z.object({ kind: z.literal('host-ssh'), hostId: idSchema, size: consoleSize.optional() }).strict(),
  z
    .object({
      kind: z.literal('guest-ssh'),
      guestId: idSchema,
      /** Default: the guest's first IP address Skydeck knows. */
      address: hostAddressSchema.optional(),
      port: sshPortSchema.default(22),
      username: sshUserSchema,
      auth: guestSshAuth,
      /** The fingerprint the admin confirmed after a `host_key_unknown` answer (trust on first use). */
      acceptFingerprint: fingerprintSchema.optional(),
      size: consoleSize.optional(),
    })
    .strict(),
]);
export type ConsoleOpenInput = z.input<typeof consoleOpenInput>;

export const consoleTicketSchema = z.object({
  /** Opaque id of the console session (for consoles.list / consoles.close). */
  sessionId: z.string(),
  kind: z.enum(CONSOLE_KINDS),
  protocol: z.enum(['rfb', 'terminal']),
  /** Where to open the WebSocket on the UI's own origin (headless), e.g. /api/v1/consoles/<ticket>. */
  path: z.string(),
  /** An absolute ws:// URL when the listener is not the UI's origin (desktop app); null: use path. */
  url: z.string().nullable(),
  expiresAt: isoTime,
  /** What the tab shows: "web-1 (host kvm-2)", "root@kvm-2". */
  title: z.string(),
  vnc: z
    .object({
      /** The guest's VNC server asks for a password. */
      passwordSet: z.boolean(),
      /** Skydeck holds it and answers the VNC authentication itself (the browser sees no authentication). */
      proxyAuth: z.boolean(),
    })
    .nullable(),
});
export type ConsoleTicket = z.infer<typeof consoleTicketSchema>;

export const consoleSessionSchema = z.object({
  sessionId: z.string(),
  kind: z.enum(CONSOLE_KINDS),
  title: z.string(),
  targetId: z.string(),
  state: z.enum(['waiting', 'open', 'closed']),
  openedAt: isoTime,
  bytesIn: z.number().int(),
  bytesOut: z.number().int(),
  actor: z.string(),
});

export const consoles = {
  'consoles.open': command({
    summary: 'Check a console target and answer a one-time WebSocket ticket (30 s) for it',
    input: consoleOpenInput,
    output: consoleTicketSchema,
    mutating: true,
    secretFields: ['auth.password', 'auth.privateKey', 'auth.passphrase'],
  }),
  'consoles.list': command({
    summary: 'Console sessions of this process (waiting for their WebSocket or open)',
    input: z.object({}).strict(),
    output: z.object({ items: z.array(consoleSessionSchema) }),
    mutating: false,
  }),
  'consoles.close': command({ summary: 'Close a console session', input: z.object({ sessionId: z.string().min(1).max(64) }).strict(), output: ok, mutating: true }),
  'consoles.setVncPassword': command({
    summary: "Store (or forget, with null) the guest's VNC password in the vault so the console proxy answers VNC authentication",
    input: z.object({ guestId: idSchema, password: z.string().min(1).max(8, 'VNC passwords are at most 8 characters').nullable() }).strict(),
    output: ok,
    mutating: true,
    secretFields: ['password'],
  }),
};

/** WebSocket close codes a console ends with (besides 1000 normal and 1001 going away). */
export const CONSOLE_CLOSE = {
  /** Unknown, used or expired ticket. */
  badTicket: 4001,
  /** The guest, host or display is gone. */
  notFound: 4004,
  /** The guest is not running (any more). */
  notRunning: 4009,
  /** The host or its agent cannot be reached. */
  unreachable: 4502,
  /** The target refused (SSH authentication, VNC password). */
  refused: 4003,
  /** A cloud's console proxy refused its one-time console URL (used, expired or revoked); a new consoles.open gets a new one. */
  cloudUrlRefused: 4013,
  /** Closed by consoles.close or by the app quitting. */
  closedByUser: 4000,
  /** The remote side ended (shell exited, VNC server closed). */
  ended: 4100,
  /** Anything else; the reason says what. */
  failed: 4500,
} as const;

/**
 * The `skydeck.terminal.v1` WebSocket protocol.
 *  Server → browser: binary frames are terminal output; text frames are JSON TerminalServerMessage.
 *  Browser → server: binary frames are input (keys, paste); text frames are JSON TerminalClientMessage.
 * Back-pressure: the server sends at most `window` bytes of output the browser has not acknowledged; the browser acks
 * what xterm.js has written (its write callback), so a `cat` of a large file is paced by the browser's rendering and
 * neither side buffers more than the window.
 */
export const TERMINAL_SUBPROTOCOL = 'skydeck.terminal.v1';
export const TERMINAL_WINDOW_BYTES = 1 << 20;
export type TerminalServerMessage =
  | { t: 'ready'; title: string; window: number }
  | { t: 'exit'; code: number | null; signal: string | null }
  | { t: 'error'; code: string; message: string };
export type TerminalClientMessage = { t: 'resize'; cols: number; rows: number } | { t: 'ack'; bytes: number };
export const terminalClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('resize'), cols: consoleSize.shape.cols, rows: consoleSize.shape.rows }),
  z.object({ t: z.literal('ack'), bytes: z.number().int().min(0).max(1 << 30) }),
]);
