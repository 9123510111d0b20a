import { describe, expect, it } from 'vitest';
import { actionsAcked, actionsRefused, planActionReapply, type ItemId, type PlannedAction } from './actionPlan.ts';

const pending = (key: string): PlannedAction => ({ key, state: 'pending' });
const items = (ids: Record<string, ItemId>) => (key: string): ItemId | undefined => ids[key];

describe('action outbox', () => {
  it('counts an action as stored when an ack of its client passes its clock', () => {
    const rows = [pending('a'), pending('b'), pending('c'), pending('gone')];
    const where = items({ a: { client: 1, clock: 4 }, b: { client: 1, clock: 8 }, c: { client: 2, clock: 2 } });
    expect(actionsAcked(rows, { client: 1, clock: 5, msgIds: [] }, where)).toEqual(['a']);
    expect(actionsAcked(rows, { client: 1, clock: 12, msgIds: [] }, where)).toEqual(['a', 'b']);
    expect(actionsAcked(rows, { client: 2, clock: 2, msgIds: [] }, where)).toEqual([]);
  });

  it('counts an action as stored when the ack names its key', () => {
    expect(actionsAcked([pending('m|bob|open')], { client: 1, clock: 2, msgIds: ['m|bob|open'] }, items({}))).toEqual(['m|bob|open']);
  });

  it('leaves failed actions alone on an ack', () => {
    expect(actionsAcked([{ ...pending('a'), state: 'failed' }], { client: 1, clock: 99, msgIds: [] }, items({ a: { client: 1, clock: 0 } }))).toEqual([]);
  });

  it('fails the actions a refusal names', () => {
    const rows = [pending('a'), pending('b')];
    expect(actionsRefused(rows, { code: 'duplicate-action', msgIds: ['b'] }, [])).toEqual(['b']);
  });

  it('fails every pending action when a refusal names neither actions nor my pending messages', () => {
    const rows = [pending('a'), pending('b'), { ...pending('c'), state: 'failed' as const }];
    expect(actionsRefused(rows, { code: 'unknown-root', msgIds: [] }, ['m1'])).toEqual(['a', 'b']);
  });

  it('keeps actions pending when the refusal was about a message of mine', () => {
    expect(actionsRefused([pending('a')], { code: 'blocked', msgIds: ['m1'] }, ['m1'])).toEqual([]);
  });

  it('keeps actions pending after a refusal the client repairs by itself', () => {
    expect(actionsRefused([pending('a')], { code: 'reset-required', msgIds: [] }, [])).toEqual([]);
  });

  it('writes a missing pending action again, and waits for one in flight', () => {
    const rows = [pending('missing'), pending('in-flight'), { ...pending('failed'), state: 'failed' as const }];
    const plan = planActionReapply(rows, (k) => k === 'in-flight', false);
    expect(plan).toEqual({ write: ['missing'], stored: [] });
  });

  it('after a reset, counts what the server copy holds as stored, a duplicate from another device included', () => {
    const rows = [pending('there'), { ...pending('dup'), state: 'failed' as const, code: 'duplicate-action' as const }, { ...pending('bad'), state: 'failed' as const, code: 'schema-invalid' as const }];
    const plan = planActionReapply(rows, (k) => k !== 'bad', true);
    expect(plan).toEqual({ write: [], stored: ['there', 'dup'] });
  });
});
