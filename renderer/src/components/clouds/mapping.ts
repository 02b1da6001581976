import type { CloudProjectMapping } from '@shared/contract/clouds';

/** The tag → project mapping as the dialogs edit it (main/clouds/projects.ts): overrides as rows, '' for none. */
export interface MappingForm {
  tagKey: string;
  defaultProjectId: string;
  overrides: { value: string; projectId: string }[];
}

export const blankMapping = (): MappingForm => ({ tagKey: '', defaultProjectId: '', overrides: [] });

export function mappingForm(pm: CloudProjectMapping | null | undefined): MappingForm {
  return { tagKey: pm?.tagKey ?? '', defaultProjectId: pm?.defaultProjectId ?? '', overrides: Object.entries(pm?.overrides ?? {}).map(([value, projectId]) => ({ value, projectId })) };
}

/** The API's mapping for the form: null when it maps nothing (no tag key, no default, no override). */
export function mappingInput(m: MappingForm): CloudProjectMapping | null {
  const overrides = Object.fromEntries(m.overrides.filter((o) => o.value.trim() && o.projectId).map((o) => [o.value.trim(), o.projectId]));
  const tagKey = m.tagKey.trim() || null;
  const defaultProjectId = m.defaultProjectId || null;
  return tagKey || defaultProjectId || Object.keys(overrides).length ? { tagKey, defaultProjectId, overrides } : null;
}
