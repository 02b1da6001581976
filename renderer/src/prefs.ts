import type { Settings } from '@shared/contract/settings';
import { LOCALES, THEMES } from '@shared/contract/settings';
import { browserLocale } from './i18n';

/**
 * Theme and locale live in the server's settings; this cache only avoids a flash of the wrong theme or language
 * while the settings load. The settings store writes it whenever they change.
 */
const KEY = 'skydeck.ui';

export interface CachedPrefs {
  theme: Settings['theme'];
  locale: Settings['locale'];
}

export function readCachedPrefs(): CachedPrefs {
  const fallback: CachedPrefs = { theme: 'system', locale: browserLocale(navigator.languages ?? [navigator.language]) };
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return fallback;
    const v = JSON.parse(raw) as Partial<CachedPrefs>;
    return {
      theme: (THEMES as readonly string[]).includes(v.theme ?? '') ? (v.theme as CachedPrefs['theme']) : fallback.theme,
      locale: (LOCALES as readonly string[]).includes(v.locale ?? '') ? (v.locale as CachedPrefs['locale']) : fallback.locale,
    };
  } catch {
    return fallback;
  }
}

export function writeCachedPrefs(prefs: CachedPrefs): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ theme: prefs.theme, locale: prefs.locale }));
  } catch {
    /* private mode: nothing cached, the settings still apply */
  }
}

/** How the consoles look on this computer (not a server setting: a font size suits one screen, not every one). */
const CONSOLE_KEY = 'skydeck.consoles';
export const TERMINAL_FONT_SIZES = { min: 8, max: 32, default: 14 } as const;
export const VNC_SCALINGS = ['fit', 'remote', 'none'] as const;
export type VncScaling = (typeof VNC_SCALINGS)[number];

export interface ConsolePrefs {
  terminalFontSize: number;
  /** Copy a terminal selection to the clipboard as soon as it is made. */
  copyOnSelect: boolean;
  vncScaling: VncScaling;
}

export function readConsolePrefs(): ConsolePrefs {
  const fallback: ConsolePrefs = { terminalFontSize: TERMINAL_FONT_SIZES.default, copyOnSelect: true, vncScaling: 'fit' };
  try {
    const raw = localStorage.getItem(CONSOLE_KEY);
    if (!raw) return fallback;
    const v = JSON.parse(raw) as Partial<ConsolePrefs>;
    const size = Number(v.terminalFontSize);
    return {
      terminalFontSize: Number.isInteger(size) && size >= TERMINAL_FONT_SIZES.min && size <= TERMINAL_FONT_SIZES.max ? size : fallback.terminalFontSize,
      copyOnSelect: typeof v.copyOnSelect === 'boolean' ? v.copyOnSelect : fallback.copyOnSelect,
      vncScaling: (VNC_SCALINGS as readonly string[]).includes(v.vncScaling ?? '') ? (v.vncScaling as VncScaling) : fallback.vncScaling,
    };
  } catch {
    return fallback;
  }
}

export function writeConsolePrefs(patch: Partial<ConsolePrefs>): ConsolePrefs {
  const next = { ...readConsolePrefs(), ...patch };
  try {
    localStorage.setItem(CONSOLE_KEY, JSON.stringify(next));
  } catch {
    /* private mode: not remembered */
  }
  return next;
}
