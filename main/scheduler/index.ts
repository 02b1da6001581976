/**
 * The scheduler's public surface. Guest creation calls `schedule(db, request, { guestIds, actor })` inside its own
 * immediate transaction, takes `placements[i].hostId`, submits its task, then `bindReservation(db, reservationId,
 * task.id)`; the engine's onFinish calls `releaseTaskReservations` when the task ends.
 */
export { schedule, forecast, parseRequest, type ScheduleOptions, type ScheduleResult } from './schedule';
export { bindReservation, releaseReservation, releaseTaskReservations, purgeReservations, listReservations } from './reservations';
export { schedulerPendingUsage } from './snapshot';
export { schedulerHandlers } from './handlers';
