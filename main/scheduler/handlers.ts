import type Database from 'better-sqlite3';
import type { scheduler as schedulerContract, SchedStrategy } from '@shared/contract/scheduler';
import type { DomainHandlers } from '../api/handlers';
import { forecast, schedule } from './schedule';
import { listReservations, releaseReservation, releaseTaskReservations } from './reservations';
import { addGuests, createGroup, deleteGroup, listGroups, removeGuests } from './groups';

interface Deps {
  db: Database.Database;
  /** The default strategy when a request names none (the scheduler setting); spread when not given. */
  strategy?: () => SchedStrategy;
}

export function schedulerHandlers(d: Deps): DomainHandlers<typeof schedulerContract> {
  const { db } = d;
  const defaultStrategy = () => d.strategy?.() ?? 'spread';
  return {
    'scheduler.forecast'({ limit, ...req }) {
      return forecast(db, req, { defaultStrategy: defaultStrategy(), ...(limit !== undefined ? { forecastLimit: limit } : {}) });
    },
    'scheduler.place'({ ttlSeconds, forecast: withForecast, ...req }, ctx) {
      const r = schedule(db, req, { actor: ctx.actor, ttlSeconds, defaultStrategy: defaultStrategy() });
      return { reservationId: r.reservationId!, placements: r.placements, expiresAt: r.expiresAt!, forecast: withForecast ? r.forecast : null };
    },
    'scheduler.release'({ reservationId, taskId }) {
      return { released: reservationId ? releaseReservation(db, reservationId) : releaseTaskReservations(db, taskId!) };
    },
    'scheduler.reservations'({ hostId, limit }) {
      return { items: listReservations(db, { hostId, limit }) };
    },
    'instanceGroups.list'({ projectId }) {
      return { items: listGroups(db, projectId) };
    },
    'instanceGroups.create'(i) {
      return createGroup(db, i);
    },
    'instanceGroups.delete'({ id }) {
      deleteGroup(db, id);
      return { ok: true as const };
    },
    'instanceGroups.addGuests'({ id, guestIds }) {
      return addGuests(db, id, guestIds);
    },
    'instanceGroups.removeGuests'({ id, guestIds }) {
      return removeGuests(db, id, guestIds);
    },
  };
}
