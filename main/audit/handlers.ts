import type { audit } from '@shared/contract/audit';
import type { DomainHandlers } from '../api/handlers';
import type { AuditRepo } from './audit-repo';

export function auditHandlers(repo: AuditRepo): DomainHandlers<typeof audit> {
  return { 'audit.list': (q) => repo.list(q) };
}
