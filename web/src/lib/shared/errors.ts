/**
 * The one error funnel of the web app. Everything that can go wrong ends
 * here as an AppError with a stable code; people see readable text (from
 * protocol's ERROR_MESSAGES, or the app's own below). The code is for support:
 * never in the sentence, but in a "Details" line (components/ErrorDetails.svelte)
 * or, for a passing notice, the console.
 *
 * `report` shows an error through the sink the app sets at start (main.ts:
 * the notices, state/notices.svelte.ts), so that every layer can report
 * without importing the screen's state.
 */
import { errorMessage, isErrorCode, type ErrorCode } from '@parley/protocol';

const APP_MESSAGES = {
  network: 'Parley cannot reach the server. Check your connection and try again.',
  offline: 'You are offline. Try again when you are back online.',
  unexpected: 'Something went wrong on this device. Try again.',
  'link-other-user': 'This sign-in link is for another user than the one signed in here. Sign out first, then open the link again.',
} as const;

export type AppErrorCode = ErrorCode | keyof typeof APP_MESSAGES;

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message?: string,
  ) {
    super(message ?? textOf(code));
    this.name = 'AppError';
  }
}

/** What a `rate-limited` refusal tells a person: how long to wait (Retry-After, seconds), in words. */
export function rateLimitedText(retryAfterSeconds: number): string {
  if (!Number.isFinite(retryAfterSeconds) || retryAfterSeconds <= 0) return 'Too many attempts. Wait a little and try again.';
  const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
  const s = Math.ceil(retryAfterSeconds);
  const wait = s < 60 ? plural(s, 'second') : s < 5400 ? plural(Math.ceil(s / 60), 'minute') : plural(Math.ceil(s / 3600), 'hour');
  return `Too many attempts. Try again in ${wait}.`;
}

export function textOf(code: AppErrorCode): string {
  return isErrorCode(code) ? errorMessage(code) : APP_MESSAGES[code];
}

/** The code of anything thrown: protocol refusals carry one, the rest is unexpected. */
export function codeOf(e: unknown): AppErrorCode {
  if (e instanceof AppError) return e.code;
  const code = (e as { code?: unknown } | null)?.code;
  return isErrorCode(code) ? code : 'unexpected';
}

export function describe(e: unknown): { text: string; code: AppErrorCode } {
  const code = codeOf(e);
  return { text: e instanceof AppError ? e.message : textOf(code), code };
}

/** Where reported errors are shown to the user. */
export type ErrorSink = (text: string, code: AppErrorCode) => void;

/** Until the app sets its sink, reported errors are only logged. */
let sink: ErrorSink = (text, code) => console.warn(`${text} (${code})`);

/** Sets where `report` shows errors (once, at start). */
export function showErrorsIn(next: ErrorSink): void {
  sink = next;
}

/** Shows the error to the user (and logs it, with its code, for developers and support). */
export function report(e: unknown): void {
  const { text, code } = describe(e);
  if (code === 'unexpected') console.error(e);
  else console.info(`[parley] ${code}: ${text}`);
  sink(text, code);
}

/** A refusal that the user can fix, and the action that fixes it. */
export interface Refusal {
  text: string;
  action?: 'friend-request' | undefined;
}

/**
 * Why a message to `name` was refused, in plain words, with the action that
 * fixes it. Permission codes name the peer (and reveal no more than needed);
 * a refusal with words of its own (`reason`) reads as those; the rest as the
 * protocol words them.
 */
export function refusalOf(code: AppErrorCode, name: string, reason?: string): Refusal {
  switch (code) {
    case 'blocked':
      return { text: `You can't message ${name}: ${name} isn't accepting your messages.` };
    case 'not-friends':
      return { text: `You can't message ${name}: you're not friends. Send a friend request first.`, action: 'friend-request' };
    case 'not-in-recipient-friends':
      return { text: `You can't message ${name}: ${name} hasn't added you as a friend yet.`, action: 'friend-request' };
    case 'not-in-sender-friends':
      return { text: `You can't message ${name}: add ${name} as a friend first.`, action: 'friend-request' };
    default:
      // The app's server's own words (callback-refused) say more than the code's.
      return { text: reason ?? textOf(code) };
  }
}

/** Codes whose reason is shown at once under a failed message (the fix is the user's). */
export function isPermissionCode(code: AppErrorCode | undefined): boolean {
  return code === 'blocked' || code === 'not-friends' || code === 'not-in-recipient-friends' || code === 'not-in-sender-friends';
}
