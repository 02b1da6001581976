import { ElMessage } from 'element-plus';
import { describeError } from './api/errors';
import { t } from './i18n';

/** Shows an error as a translated message (code meaning as the title, the server's words as detail). */
export function showError(e: unknown, context?: string): void {
  const d = describeError(e, t);
  // A refused token replaces the whole page with an explanation; a toast on top would only repeat it.
  if (d.code === 'unauthenticated') return;
  const head = context ? `${context}: ${d.title}` : d.title;
  ElMessage({
    type: 'error',
    message: d.detail ? `${head} — ${d.detail.replace(/\n/g, '; ')}` : head,
    grouping: true,
    showClose: true,
    duration: 6000,
  });
}

export function showSuccess(message: string): void {
  ElMessage({ type: 'success', message, grouping: true, duration: 2500 });
}
