import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { ApiError, type ErrorBody } from '@shared/errors';
import type { Core } from '../main/core-types';
import type { Logger } from '../main/log/logger';

/**
 * The IPC transport. It has no logic of its own: one channel carries every command of the registry to
 * `core.dispatch`, and one channel carries every event back. Validation, permissions and auditing are the core's.
 */
export const INVOKE_CHANNEL = 'skydeck:invoke';
export const EVENT_CHANNEL = 'skydeck:event';

export type InvokeResult = { ok: true; value: unknown } | { ok: false; error: ErrorBody };

export interface IpcOptions {
  core: Pick<Core, 'dispatch'>;
  /** The core of a window that is not the live inventory's (an opened snapshot); null: the live core answers. */
  coreFor?: (sender: WebContents) => Pick<Core, 'dispatch'> | null;
  /** Recorded as the caller in the audit log (`desktop:<os user>`). */
  actor: string;
  /** True for URLs of the app's own pages (see security.ts). */
  isTrustedUrl: (url: string | null | undefined) => boolean;
  logger: Logger;
}

/** The sender must be the main frame of a page served by the app itself, not an iframe and not a foreign page. */
export function isTrustedSender(event: IpcMainInvokeEvent, isTrustedUrl: IpcOptions['isTrustedUrl']): boolean {
  const frame = event.senderFrame;
  if (!frame) return false; // the frame navigated away or was destroyed
  if (frame.parent !== null) return false; // sub-frames never talk to the core
  return isTrustedUrl(frame.url);
}

/** Registers the one invoke handler. Returns a function that removes it. */
export function registerIpc(opts: IpcOptions): () => void {
  const log = opts.logger.scope('ipc');
  ipcMain.handle(INVOKE_CHANNEL, async (event, name: unknown, input: unknown): Promise<InvokeResult> => {
    if (!isTrustedSender(event, opts.isTrustedUrl)) {
      log.warn('refused IPC from an untrusted sender', { url: event.senderFrame?.url ?? null });
      return { ok: false, error: new ApiError('forbidden', 'This page may not call Skydeck').toBody() };
    }
    try {
      const core = opts.coreFor?.(event.sender) ?? opts.core;
      const value = await core.dispatch(name as string, input, { actor: opts.actor, transport: 'ipc' });
      return { ok: true, value };
    } catch (e) {
      if (ApiError.is(e)) return { ok: false, error: e.toBody() };
      // A bug: the renderer gets a generic message, the log gets the stack.
      log.error('command failed with a non-API error', { command: String(name), error: e });
      return { ok: false, error: { code: 'internal', message: 'Internal error' } };
    }
  });
  return () => ipcMain.removeHandler(INVOKE_CHANNEL);
}

/** Forwards every core event to `win` until the window closes. Returns the unsubscribe function. */
export function forwardEvents(core: Pick<Core, 'events'>, win: BrowserWindow): () => void {
  let unsubscribe: (() => void) | null = core.events.on((ev) => {
    if (win.isDestroyed() || win.webContents.isDestroyed()) return;
    win.webContents.send(EVENT_CHANNEL, ev);
  });
  const stop = () => {
    unsubscribe?.();
    unsubscribe = null;
  };
  win.once('closed', stop);
  return stop;
}
