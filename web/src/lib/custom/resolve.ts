/**
 * From a custom element and the actions on its message to what a renderer
 * may trust, pure. A kind this app does not know, or data that fails the
 * kind's schema, resolves to an "unsupported" bubble that shows the element's
 * description; an action that is not the kind's, fails its schema or was
 * written by a member the kind does not allow is ignored.
 */
import type { RegisteredKind } from './types.ts';

export interface CustomElementValue {
  kind: string;
  data: unknown;
  description: string;
}

export type Resolved =
  | { supported: true; entry: RegisteredKind; data: unknown }
  | { supported: false; reason: 'unknown-kind' | 'invalid-data'; description: string };

export function resolveCustom(registry: ReadonlyMap<string, RegisteredKind>, element: CustomElementValue): Resolved {
  const entry = registry.get(element.kind);
  const description = element.description.trim() === '' ? 'A message this app cannot show' : element.description;
  if (entry === undefined) return { supported: false, reason: 'unknown-kind', description };
  const parsed = entry.parseData(element.data);
  if (!parsed.ok) return { supported: false, reason: 'invalid-data', description };
  return { supported: true, entry, data: parsed.data };
}

export interface RawAction {
  from: string;
  name: string;
  data: unknown;
  ts: number;
  pending?: boolean;
}

export interface CheckedAction {
  from: string;
  name: string;
  data: unknown;
  ts: number;
  pending: boolean;
}

/** The actions a renderer may trust, oldest first. */
export function checkActions(entry: RegisteredKind, message: { from: string; to: string }, actions: readonly RawAction[]): CheckedAction[] {
  const checked: CheckedAction[] = [];
  for (const a of actions) {
    const spec = entry.action(a.name);
    if (spec === undefined) continue;
    const allowed = spec.by === 'either' ? a.from === message.from || a.from === message.to : a.from === (spec.by === 'sender' ? message.from : message.to);
    if (!allowed) continue;
    const parsed = spec.parse(a.data);
    if (!parsed.ok) continue;
    checked.push({ from: a.from, name: a.name, data: parsed.data, ts: a.ts, pending: a.pending ?? false });
  }
  return checked.sort((x, y) => x.ts - y.ts);
}
