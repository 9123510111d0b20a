/**
 * The media outbox as the rest of the app calls it. outbox.ts and the upload
 * code behind it are a chunk of their own, loaded when a session starts
 * (after the first screen), so they are not part of the app's first load.
 * Calls made while it loads wait for it, in the order they were made; once it
 * is loaded they go straight through.
 */
import type { MediaOutboxContext } from './outbox.ts';

type Outbox = (typeof import('./outbox.ts'))['mediaOutbox'];

let outbox: Outbox | null = null;
let loading: Promise<Outbox> | null = null;

function load(): Promise<Outbox> {
  loading ??= import('./outbox.ts').then((m) => (outbox = m.mediaOutbox));
  return loading;
}

function call(use: (o: Outbox) => void): void {
  if (outbox !== null) use(outbox);
  else void load().then(use);
}

export const mediaOutbox = {
  start(ctx: MediaOutboxContext): void {
    call((o) => o.start(ctx));
  },
  /** Nothing to stop before it was ever started (loaded). */
  stop(): void {
    if (outbox !== null) outbox.stop();
    else if (loading !== null) void loading.then((o) => o.stop());
  },
  kick(): void {
    call((o) => o.kick());
  },
  async abort(id: string): Promise<void> {
    await (outbox ?? (await load())).abort(id);
  },
};
