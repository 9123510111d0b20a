/**
 * What a custom message kind is made of (see docs/custom-messages.md): the
 * zod schema of its `data`, the actions the two members may write on it
 * (each with its own schema and who may write it), a renderer, optionally a
 * composer (the dialog that makes a new one) and a secret the sender's device
 * keeps. `defineCustom` checks a kind's parts against each other at compile
 * time and erases the types for the registry.
 */
import type { Component } from 'svelte';
import type { z } from 'zod';

/** Who may write an action: the message's sender, its recipient, or either member. */
export type Actor = 'sender' | 'recipient' | 'either';

export interface ActionSpec {
  data: z.ZodType;
  by: Actor;
}

export type ActionSpecs = Record<string, ActionSpec>;

/** An action as a renderer sees it: its data passed its schema, its writer is allowed. */
export type ActionOf<A extends ActionSpecs> = {
  [N in keyof A & string]: {
    name: N;
    from: string;
    data: z.output<A[N]['data']>;
    ts: number;
    /** Written on this device, not acknowledged by the server yet. */
    pending: boolean;
  };
}[keyof A & string];

/** An action of mine the server refused (or this device could not write). */
export interface ActionFailure {
  name: string;
  /** In the user's words. */
  text: string;
  code: string;
}

/** The message a custom element belongs to. */
export interface CustomMessage {
  id: string;
  from: string;
  to: string;
  /** I sent it. */
  mine: boolean;
  /** The other member's name, for "Waiting for Bob". */
  peerName: string;
}

export interface ViewProps<D, A extends ActionSpecs, S> {
  data: D;
  message: CustomMessage;
  /** The valid actions written so far, oldest first. */
  actions: ActionOf<A>[];
  /** What the sender's device kept for itself (undefined elsewhere, or when lost). */
  secret: S | undefined;
  /** Writes an action of mine; resolves false when it could not (the failure shows in `failures`). */
  act: <N extends keyof A & string>(name: N, data: z.input<A[N]['data']>) => Promise<boolean>;
  failures: ActionFailure[];
  /** Forgets a failure (and lets the action be tried again). */
  dismiss: (name: string) => void;
}

export interface Draft<D, S> {
  data: D;
  secret?: S;
}

export interface ComposeProps<D, S> {
  onsubmit: (draft: Draft<D, S>) => void;
  oncancel: () => void;
}

export interface CustomKind<D, A extends ActionSpecs, S> {
  /** The element's `kind`: 1-32 of a-z 0-9 -. */
  kind: string;
  /** The menu entry that makes one ("Red packet"). */
  label: string;
  /** An emoji for the menu. */
  icon: string;
  data: z.ZodType<D>;
  secret?: z.ZodType<S>;
  actions: A;
  /** The element's `description`: what previews, notifications and older apps show. */
  describe: (data: D) => string;
  /** The renderer, loaded on first use (a chunk of its own: the first load stays small). */
  view: () => Promise<{ default: Component<ViewProps<D, A, S>> }>;
  compose?: () => Promise<{ default: Component<ComposeProps<D, S>> }>;
}

type Parsed = { ok: true; data: unknown } | { ok: false };

/** A kind with its types erased, as the registry holds it. */
export interface RegisteredKind {
  kind: string;
  label: string;
  icon: string;
  parseData: (data: unknown) => Parsed;
  parseSecret: (secret: unknown) => Parsed;
  /** Checks an action's data; `by` says who may write it (undefined: no such action). */
  action: (name: string) => { by: Actor; parse: (data: unknown) => Parsed } | undefined;
  describe: (data: unknown) => string;
  view: Lazy<Component<ViewProps<unknown, ActionSpecs, unknown>>>;
  compose: Lazy<Component<ComposeProps<unknown, unknown>>> | undefined;
}

/** A component loaded once: `current` once `load()` has resolved. */
export interface Lazy<T> {
  current: T | undefined;
  load: () => Promise<T>;
}

function lazy<T>(importer: () => Promise<{ default: T }>): Lazy<T> {
  let loading: Promise<T> | undefined;
  const self: Lazy<T> = {
    current: undefined,
    load: () => {
      loading ??= importer().then(
        (module) => (self.current = module.default),
        (e: unknown) => {
          loading = undefined;
          throw e;
        },
      );
      return loading;
    },
  };
  return self;
}

const parser =
  (schema: z.ZodType | undefined) =>
  (value: unknown): Parsed => {
    if (schema === undefined) return { ok: false };
    const result = schema.safeParse(value);
    return result.success ? { ok: true, data: result.data } : { ok: false };
  };

export function defineCustom<D, A extends ActionSpecs, S = never>(kind: CustomKind<D, A, S>): RegisteredKind {
  return {
    kind: kind.kind,
    label: kind.label,
    icon: kind.icon,
    parseData: parser(kind.data),
    parseSecret: parser(kind.secret),
    action: (name) => {
      const spec = Object.hasOwn(kind.actions, name) ? kind.actions[name] : undefined;
      return spec === undefined ? undefined : { by: spec.by, parse: parser(spec.data) };
    },
    // Only ever called with data that passed `kind.data` (see resolve.ts).
    describe: (data) => kind.describe(data as D),
    view: lazy(kind.view) as unknown as RegisteredKind['view'],
    compose: kind.compose === undefined ? undefined : lazy(kind.compose),
  };
}
