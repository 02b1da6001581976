import { describe, expect, it } from 'vitest';
import type { TaskStageEntry } from '@shared/contract/tasks';
import { BOOTSTRAP_STAGES, failedStep, stageSteps } from './stages';

const at = '2025-01-01T00:00:00.000Z';
const h = (stage: string, status: TaskStageEntry['status'], message = ''): TaskStageEntry => ({ stage, status, message, at });
const states = (s: ReturnType<typeof stageSteps>) => Object.fromEntries(s.map((x) => [x.stage, x.state]));

describe('task stage steps', () => {
  it('shows a queued task as all pending, housekeeping stages hidden', () => {
    const s = stageSteps(BOOTSTRAP_STAGES, { stage: 'onInit', status: 'queued', message: '' }, []);
    expect(s.map((x) => x.stage)).toEqual([...BOOTSTRAP_STAGES]);
    expect(new Set(s.map((x) => x.state))).toEqual(new Set(['pending']));
  });

  it('marks done, the running one and what is to come, with the running message', () => {
    const s = stageSteps(BOOTSTRAP_STAGES, { stage: 'onUpload', status: 'running', message: 'agent 40 %' }, [
      h('onInit', 'entered'),
      h('onInit', 'completed'),
      h('onConnect', 'entered'),
      h('onConnect', 'completed', 'root@kvm1'),
      h('onProbe', 'entered'),
      h('onProbe', 'completed', 'Debian 12, libvirt 9.0'),
      h('onUpload', 'entered'),
    ]);
    expect(s[0]!.stage, 'a stage outside the expected list shows where it ran').toBe('onInit');
    expect(states(s)).toMatchObject({ onInit: 'done', onConnect: 'done', onProbe: 'done', onRuntime: 'skipped', onUpload: 'active', onStart: 'pending', onSync: 'pending' });
    expect(s.find((x) => x.stage === 'onUpload')!.message).toBe('agent 40 %');
    expect(s.find((x) => x.stage === 'onProbe')!.message).toBe('Debian 12, libvirt 9.0');
  });

  it('without history yet, stages before the current one count as done', () => {
    const s = stageSteps(BOOTSTRAP_STAGES, { stage: 'onStart', status: 'running', message: '' }, []);
    expect(states(s)).toMatchObject({ onConnect: 'done', onUpload: 'done', onStart: 'active', onHandshake: 'pending' });
  });

  it('shows the failed stage and nothing running after a failure', () => {
    const s = stageSteps(BOOTSTRAP_STAGES, { stage: 'onConnect', status: 'failed', message: 'authentication failed' }, [h('onConnect', 'entered'), h('onConnect', 'failed', 'All configured authentication methods failed')]);
    expect(states(s)).toMatchObject({ onConnect: 'failed', onProbe: 'pending' });
    expect(failedStep(s)?.message).toBe('All configured authentication methods failed');
    expect(s.some((x) => x.state === 'active')).toBe(false);
  });

  it('a succeeded task is done throughout; stages it never entered are skipped', () => {
    const hist = BOOTSTRAP_STAGES.filter((x) => x !== 'onRuntime').flatMap((x) => [h(x, 'entered'), h(x, 'completed')]);
    const s = stageSteps(BOOTSTRAP_STAGES, { stage: 'onSync', status: 'succeeded', message: '' }, hist);
    expect(states(s)).toMatchObject({ onConnect: 'done', onRuntime: 'skipped', onSync: 'done' });
    expect(failedStep(s)).toBeNull();
  });

  it('a cancelled task stops where it was; unknown stages are listed in the order they ran', () => {
    const s = stageSteps([], { stage: 'onDefine', status: 'cancelled', message: '' }, [h('onSchedule', 'entered'), h('onSchedule', 'completed'), h('onDisk', 'entered'), h('onDisk', 'completed'), h('onDefine', 'entered')]);
    expect(s.map((x) => [x.stage, x.state])).toEqual([
      ['onSchedule', 'done'],
      ['onDisk', 'done'],
      ['onDefine', 'stopped'],
    ]);
  });
});
