/** A refusal of an upload request, with what the HTTP answer must also carry. */
import type { ErrorCode } from '@parley/protocol';
import { Refusal } from '../errors.ts';

export class UploadRefusal extends Refusal {
  constructor(
    code: ErrorCode,
    /** Bytes of the upload the server holds (the Upload-Offset header), when there is an upload. */
    readonly received: number | null,
    detail?: string,
  ) {
    super(code, detail);
  }
}
