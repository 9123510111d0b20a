/** An expected refusal (a closed set of codes); bugs throw ordinary errors. http/errors.ts turns it into an HTTP error. */
import type { ErrorCode } from '@parley/protocol';

export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly code: ErrorCode,
    detail?: string,
  ) {
    super(detail ?? code);
  }
}
