import { createI18n } from 'vue-i18n';
import type { Settings } from '@shared/contract/settings';
import en, { type MessageSchema } from './en';
import zhCN from './zh-CN';

export type Locale = Settings['locale'];

export const messages: Record<Locale, MessageSchema> = { en, 'zh-CN': zhCN };

/** The locale of the browser when nothing is cached yet. */
export function browserLocale(languages: readonly string[]): Locale {
  for (const l of languages) {
    const lower = l.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

export const i18n = createI18n<[MessageSchema], Locale, false>({
  legacy: false,
  locale: 'en',
  fallbackLocale: 'en',
  messages,
  missingWarn: false,
  fallbackWarn: false,
});

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  document.documentElement.lang = locale;
}

/** Plain translate function for code outside components (stores, global handlers). */
export function t(key: string, named?: Record<string, unknown>): string {
  return named ? i18n.global.t(key, named) : i18n.global.t(key);
}
