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
