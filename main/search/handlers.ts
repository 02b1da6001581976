import type { search, SearchHit } from '@shared/contract/search';
import type { DomainHandlers } from '../api/handlers';
import type { AuditRepo } from '../audit/audit-repo';
import type { TaskRepo } from '../tasks/task-repo';

/** Global search: each domain answers its best few hits for the text; inventory kinds join as later issues add them. */
export function searchHandlers(d: { tasks: TaskRepo; audit: AuditRepo }): DomainHandlers<typeof search> {
  return {
    'search.global': ({ q, limit }) => {
      const per = Math.max(1, Math.ceil(limit / 2));
      const hits: SearchHit[] = [];
      for (const t of d.tasks.list({ q, limit: per, offset: 0, filter: [] }).items) {
        hits.push({ kind: 'task', id: t.id, title: t.type, subtitle: `${t.status}${t.target ? ` · ${t.target.name ?? t.target.id}` : ''} · ${t.createdAt}`, route: `/tasks?id=${t.id}` });
      }
      for (const a of d.audit.list({ q, limit: per, offset: 0, filter: [] }).items) {
        hits.push({ kind: 'audit', id: String(a.id), title: a.action, subtitle: `${a.actor} · ${a.result} · ${a.at}`, route: `/audit?id=${a.id}` });
      }
      return { hits: hits.slice(0, limit) };
    },
  };
}
