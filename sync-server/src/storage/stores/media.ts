/**
 * Media and uploads: uploads in progress, stored media by content hash, who
 * uploaded each hash, and which conversations reference it (written by
 * `DocStore.commit` with the message, as `media-ref`/`media-unref` writes).
 */
import type { MediaKind } from '@parley/protocol';

/** An upload in progress; its bytes wait in <data>/uploads/<id> until it completes. */
export interface UploadRecord {
  /** Random, and the temp file's name: never anything the user chose. */
  id: string;
  user: string;
  device: string;
  kind: MediaKind;
  /** The other member of the conversation the media is for. */
  peer: string;
  /** Declared size, bytes. */
  size: number;
  mime: string;
  /** Declared SHA-256 (hex), checked on completion. */
  sha256: string;
  /** The name the file had on the uploader's device; never part of a path. */
  name: string | null;
  /** Bytes stored so far. */
  received: number;
  /** ms since the epoch */
  created: number;
  /** ms since the epoch: when bytes last arrived (its creation until then); an upload idle too long expires. */
  written: number;
}

/** Stored media, by content: the bytes are the file named by `hash` in the media store. */
export interface MediaRecord {
  hash: string;
  size: number;
  mime: string;
  /** The kind and name of its first upload (served as an attachment when a file). */
  kind: MediaKind;
  name: string | null;
  /** ms since the epoch */
  created: number;
}

export interface MediaStore {
  /** Creates an upload (or replaces the one with its id). */
  putUpload(upload: UploadRecord): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /** Every upload in progress, oldest first (they are few: completed, cancelled or expired ones are deleted). */
  uploads(): Promise<UploadRecord[]>;
  /** `user`'s uploads in progress, oldest first (few: their number is capped). */
  uploadsOf(user: string): Promise<UploadRecord[]>;
  /** Records that the upload holds `received` bytes, the last of them written at `written` (ms since the epoch). */
  setUploadReceived(id: string, received: number, written: number): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  /**
   * In one durable transaction: records `media` (a hash stored already keeps
   * its first record), gives `uploader` access to it, lets the references
   * `uploader`'s messages made before they could read it through (see the
   * `media-ref` write), and deletes the upload `uploadId` if given.
   */
  addMedia(media: MediaRecord, uploader: string, uploadId: string | null): Promise<void>;
  getMedia(hash: string): Promise<MediaRecord | undefined>;
  /** Whether `user` uploaded `hash` or is a member of a conversation with a message that references it. */
  mayReadMedia(hash: string, user: string): Promise<boolean>;
  /** Whether `user` is one of the uploaders of `hash` (it counts against their quota already). */
  hasUploaded(hash: string, user: string): Promise<boolean>;
  /** The bytes of the media `user` uploaded, each hash once: what their quota holds. */
  uploadedBytes(user: string): Promise<number>;
  /**
   * Account deletion: the hashes `user` uploaded that nothing else keeps,
   * no other uploader and no conversation reference, so their files may go.
   * Read before `forgetUploader`, and the files removed in between, so that
   * a crash half-way leaves rows that a retry finds again.
   */
  mediaOnlyOf(user: string): Promise<string[]>;
  /**
   * Account deletion, in one transaction: `user` is no longer an uploader of
   * anything, their references waiting for an upload go, and the records of
   * the hashes that leaves with no uploader and no reference are deleted.
   */
  forgetUploader(user: string): Promise<void>;
}
