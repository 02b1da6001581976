import { computed, type ComputedRef } from 'vue';
import { useI18n } from 'vue-i18n';
import type { DurationUnits } from './format';

/** Duration unit labels in the current language. */
export function useUnits(): ComputedRef<DurationUnits> {
  const { t, locale } = useI18n();
  return computed(() => {
    void locale.value;
    return {
      ms: (n: string) => t('units.ms', { n }),
      s: (n: string) => t('units.s', { n }),
      min: (n: string) => t('units.min', { n }),
      h: (n: string) => t('units.h', { n }),
      d: (n: string) => t('units.d', { n }),
    };
  });
}
