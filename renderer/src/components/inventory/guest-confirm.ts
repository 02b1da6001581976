import { ElMessageBox } from 'element-plus';
import type { GuestAction } from '@shared/contract/inventory/commands';
import { isDangerous } from '../../inventory/actions';

type Translate = (key: string, named?: Record<string, unknown>) => string;

/**
 * Asks before an action that can lose data (force off, reset, delete), for one guest (`name`) or a selection (`n`).
 * Resolves true when the action may go ahead (at once for the harmless ones).
 */
export async function confirmGuestAction(t: Translate, action: GuestAction, who: { name: string } | { n: number }): Promise<boolean> {
  if (!isDangerous(action)) return true;
  const bulk = 'n' in who;
  const base = bulk ? 'inv.bulk.confirm' : 'inv.guest.confirm';
  try {
    await ElMessageBox.confirm(t(`${base}.${action}.body`, who), t(`${base}.${action}.title`), {
      type: 'warning',
      confirmButtonText: t(`inv.action.${action}`),
      confirmButtonClass: 'el-button--danger',
      cancelButtonText: t('common.cancel'),
      customClass: 'sd-confirm-danger',
    });
    return true;
  } catch {
    return false;
  }
}
