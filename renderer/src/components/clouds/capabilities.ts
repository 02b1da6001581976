import { ref, type Ref } from 'vue';
import type { CloudOperation } from '@shared/contract/clouds';
import { api } from '../../api';

/**
 * What each cloud's driver can do (clouds.providers), asked once per page load: views follow these capabilities
 * instead of branching on the provider.
 */
const ops = ref<Record<string, CloudOperation[]>>({});
let loading: Promise<void> | null = null;

export function useCloudOperations(): Ref<Record<string, CloudOperation[]>> {
  if (!loading) {
    loading = api()
      .call('clouds.providers', {})
      .then((p) => {
        ops.value = Object.fromEntries(p.items.map((x) => [x.provider, [...x.capabilities.operations]]));
      })
      .catch(() => {
        loading = null;
      });
  }
  return ops;
}
