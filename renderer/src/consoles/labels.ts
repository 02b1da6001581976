import type { ConsoleKind } from '@shared/contract/consoles';
import type { TabState } from '../stores/consoles';

/** Message key part of each console kind (`consoles.kind.<x>`). */
export const KIND_KEYS: Record<ConsoleKind, string> = { vnc: 'vnc', serial: 'serial', 'host-ssh': 'hostSsh', 'guest-ssh': 'guestSsh' };

/** The colour of a tab's state dot. */
export function stateTone(state: TabState): 'ok' | 'busy' | 'bad' | 'idle' {
  if (state === 'connected') return 'ok';
  if (state === 'connecting' || state === 'reconnecting') return 'busy';
  if (state === 'failed' || state === 'error') return 'bad';
  return 'idle';
}
