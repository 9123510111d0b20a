/** Uploads, media and media references, in memory. */
import type { CommitPart, Write } from '../stores/docs.ts';
import type { MediaRecord, MediaStore, UploadRecord } from '../stores/media.ts';
import { membersOf } from '../stores/messages.ts';

export class MemoryMedia implements MediaStore, CommitPart {
  private readonly uploadRows = new Map<string, UploadRecord>();
  private readonly media = new Map<string, MediaRecord>();
  /** `hash|user` of each uploader. */
  private readonly uploaders = new Set<string>();
  /** Conversations (`a/b`) with a message that references each hash. */
  private readonly refs = new Map<string, Set<string>>();
  /** `hash|sender` -> conversations whose reference waits for the sender's upload. */
  private readonly waiting = new Map<string, Set<string>>();

  record(writes: readonly Write[]): void {
    for (const w of writes) {
      if (w.kind === 'media-ref') {
        if (this.mayRead(w.hash, w.from)) this.addRef(w.hash, w.conversation);
        else {
          const key = `${w.hash}|${w.from}`;
          this.waiting.set(key, (this.waiting.get(key) ?? new Set()).add(w.conversation));
        }
      } else if (w.kind === 'media-unref') {
        this.refs.get(w.hash)?.delete(w.conversation);
        for (const [key, conversations] of this.waiting) if (key.startsWith(`${w.hash}|`)) conversations.delete(w.conversation);
      }
    }
  }

  putUpload(upload: UploadRecord): Promise<void> {
    this.uploadRows.set(upload.id, { ...upload });
    return Promise.resolve();
  }

  getUpload(id: string): Promise<UploadRecord | undefined> {
    const upload = this.uploadRows.get(id);
    return Promise.resolve(upload && { ...upload });
  }

  uploads(): Promise<UploadRecord[]> {
    return Promise.resolve([...this.uploadRows.values()].sort((x, y) => x.created - y.created).map((u) => ({ ...u })));
  }

  uploadsOf(user: string): Promise<UploadRecord[]> {
    return this.uploads().then((all) => all.filter((u) => u.user === user));
  }

  setUploadReceived(id: string, received: number, written: number): Promise<void> {
    const upload = this.uploadRows.get(id);
    if (upload !== undefined) Object.assign(upload, { received, written });
    return Promise.resolve();
  }

  deleteUpload(id: string): Promise<void> {
    this.uploadRows.delete(id);
    return Promise.resolve();
  }

  addMedia(media: MediaRecord, uploader: string, uploadId: string | null): Promise<void> {
    if (!this.media.has(media.hash)) this.media.set(media.hash, { ...media });
    const key = `${media.hash}|${uploader}`;
    this.uploaders.add(key);
    for (const conversation of this.waiting.get(key) ?? []) this.addRef(media.hash, conversation);
    this.waiting.delete(key);
    if (uploadId !== null) this.uploadRows.delete(uploadId);
    return Promise.resolve();
  }

  getMedia(hash: string): Promise<MediaRecord | undefined> {
    const media = this.media.get(hash);
    return Promise.resolve(media && { ...media });
  }

  mayReadMedia(hash: string, user: string): Promise<boolean> {
    return Promise.resolve(this.mayRead(hash, user));
  }

  hasUploaded(hash: string, user: string): Promise<boolean> {
    return Promise.resolve(this.uploaders.has(`${hash}|${user}`));
  }

  uploadedBytes(user: string): Promise<number> {
    let bytes = 0;
    for (const key of this.uploaders) {
      const [hash = '', uploader] = key.split('|');
      if (uploader === user) bytes += this.media.get(hash)?.size ?? 0;
    }
    return Promise.resolve(bytes);
  }

  mediaOnlyOf(user: string): Promise<string[]> {
    return Promise.resolve(this.onlyOf(user));
  }

  forgetUploader(user: string): Promise<void> {
    const gone = this.onlyOf(user);
    for (const key of [...this.uploaders]) if (key.endsWith(`|${user}`)) this.uploaders.delete(key);
    for (const key of [...this.waiting.keys()]) if (key.endsWith(`|${user}`)) this.waiting.delete(key);
    for (const hash of gone) this.media.delete(hash);
    return Promise.resolve();
  }

  /** The hashes `user` uploaded with no other uploader and no conversation reference. */
  private onlyOf(user: string): string[] {
    const mine = [...this.uploaders].filter((key) => key.endsWith(`|${user}`)).map((key) => key.slice(0, key.indexOf('|')));
    return mine
      .filter((hash) => ![...this.uploaders].some((key) => key.startsWith(`${hash}|`) && key !== `${hash}|${user}`) && (this.refs.get(hash)?.size ?? 0) === 0)
      .sort();
  }

  private mayRead(hash: string, user: string): boolean {
    if (this.uploaders.has(`${hash}|${user}`)) return true;
    for (const conversation of this.refs.get(hash) ?? []) if (membersOf(conversation).includes(user)) return true;
    return false;
  }

  private addRef(hash: string, conversation: string): void {
    this.refs.set(hash, (this.refs.get(hash) ?? new Set()).add(conversation));
  }
}
