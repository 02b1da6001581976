import { ApiError } from '@shared/errors';
import type { tasks } from '@shared/contract/tasks';
import type { DomainHandlers } from '../api/handlers';
import type { TaskEngine } from './engine';

export function taskHandlers(engine: TaskEngine): DomainHandlers<typeof tasks> {
  return {
    'tasks.list': (q) => engine.repo.list(q),
    'tasks.get': ({ id }) => {
      const t = engine.repo.detail(id);
      if (!t) throw new ApiError('not_found', `task ${id} does not exist`, { id });
      return t;
    },
    'tasks.cancel': ({ id }) => engine.cancel(id),
  };
}
