import { defineStore } from 'pinia';
import { ref } from 'vue';
import { DEFAULT_SETTINGS, type Settings } from '@shared/contract/settings';
import { api } from '../api';
import { setLocale } from '../i18n';
import { applyTheme } from '../theme';
import { readCachedPrefs, writeCachedPrefs } from '../prefs';

/** The core's settings; theme and locale take effect as soon as they change, from this window or another. */
export const useSettingsStore = defineStore('settings', () => {
  const cached = readCachedPrefs();
  const settings = ref<Settings>({ ...DEFAULT_SETTINGS, theme: cached.theme, locale: cached.locale });
  const loaded = ref(false);
  const error = ref<unknown>(null);

  function apply(next: Settings): void {
    settings.value = { ...next };
    applyTheme(next.theme);
    setLocale(next.locale);
    writeCachedPrefs({ theme: next.theme, locale: next.locale });
  }

  async function load(): Promise<void> {
    try {
      apply(await api().call('settings.get'));
      loaded.value = true;
      error.value = null;
    } catch (e) {
      error.value = e;
      throw e;
    }
  }

  /** Saves a patch; answers the stored settings. Theme and locale show at once and roll back if refused. */
  async function save(patch: Partial<Settings>): Promise<Settings> {
    const before = settings.value;
    if (patch.theme !== undefined || patch.locale !== undefined) apply({ ...before, ...patch });
    try {
      const next = await api().call('settings.set', { patch });
      apply(next);
      return next;
    } catch (e) {
      apply(before);
      throw e;
    }
  }

  async function reset(): Promise<Settings> {
    const next = await api().call('settings.reset', {});
    apply(next);
    return next;
  }

  /** A settings.changed event (possibly from another window). */
  function applyRemote(next: Settings): void {
    apply(next);
  }

  return { settings, loaded, error, load, save, reset, applyRemote };
});
