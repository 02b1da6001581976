import type { ConsoleSpec } from './spec';

/**
 * A guest SSH console moved to its own window keeps its credentials without putting them in the address: the opening
 * window keeps the spec in memory under a one-time id for a minute; the new window (same origin, opened without
 * noopener) takes it through window.opener. Anything else — a reload, a bookmark — asks for the credentials again.
 */
const HANDOFF_FN = '__skydeckConsoleHandoff';
const TTL_MS = 60_000;
const pending = new Map<string, ConsoleSpec>();

type HandoffWindow = Window & { [HANDOFF_FN]?: (id: string) => string | null };

function install(): void {
  const w = window as HandoffWindow;
  if (w[HANDOFF_FN]) return;
  // A string crosses the window boundary as a copy; the spec is not shared with the other window's objects.
  w[HANDOFF_FN] = (id: string) => {
    const spec = pending.get(id);
    pending.delete(id);
    return spec ? JSON.stringify(spec) : null;
  };
}

export function offerHandoff(spec: ConsoleSpec): string {
  install();
  // getRandomValues, unlike randomUUID, exists outside secure contexts too (a headless server on plain http).
  const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  pending.set(id, spec);
  setTimeout(() => pending.delete(id), TTL_MS);
  return id;
}

export function takeHandoff(id: string): ConsoleSpec | null {
  try {
    const opener = window.opener as HandoffWindow | null;
    const raw = opener?.[HANDOFF_FN]?.(id) ?? null;
    return raw ? (JSON.parse(raw) as ConsoleSpec) : null;
  } catch {
    return null;
  }
}
