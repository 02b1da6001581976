import { ref } from 'vue';
import type { Settings } from '@shared/contract/settings';

const media = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;

/** Whether the page shows dark right now (the setting resolved against the OS for `system`). */
export const isDark = ref(false);
let current: Settings['theme'] = 'system';

function apply(): void {
  const dark = current === 'dark' || (current === 'system' && !!media?.matches);
  isDark.value = dark;
  const root = document.documentElement;
  root.classList.toggle('dark', dark);
  root.style.colorScheme = dark ? 'dark' : 'light';
}

media?.addEventListener('change', () => {
  if (current === 'system') apply();
});

export function applyTheme(theme: Settings['theme']): void {
  current = theme;
  apply();
}
