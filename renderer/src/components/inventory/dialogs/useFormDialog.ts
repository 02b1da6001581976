import { ref, type Ref } from 'vue';
import { useI18n } from 'vue-i18n';
import { errorText, formErrors } from '../../../api/errors';
import { showSuccess } from '../../../notify';

/**
 * The submit cycle every create/edit dialog shares: run the command, close and confirm on success; otherwise put each
 * error next to its field (validation issues, or a conflict naming its field) and the rest above the form.
 */
export function useFormDialog(open: Ref<boolean>, fields: readonly string[]) {
  const { t } = useI18n();
  const errors = ref<Record<string, string>>({});
  const error = ref<string | null>(null);
  const submitting = ref(false);

  function reset(): void {
    errors.value = {};
    error.value = null;
  }

  async function submit<T>(run: () => Promise<T>, success: (result: T) => string): Promise<T | null> {
    reset();
    submitting.value = true;
    try {
      const result = await run();
      open.value = false;
      showSuccess(success(result));
      return result;
    } catch (e) {
      const f = formErrors(e, fields);
      errors.value = f.byField;
      if (f.unmatched) error.value = errorText(e, t);
      return null;
    } finally {
      submitting.value = false;
    }
  }

  return { errors, error, submitting, reset, submit };
}
