/** The media store's contract: uploads, media by hash, and who may read it (references written by commits). */
import { expect, it } from 'vitest';
import { describeStore } from './backends.ts';

describeStore('media', (open) => {
  it('keeps an upload in progress until it is deleted', async () => {
    const s = open();
    const upload = { id: 'u1', user: 'alice', device: 'd', kind: 'image' as const, peer: 'bob', size: 10, mime: 'image/png', sha256: 'f'.repeat(64), name: null, received: 0, created: 5, written: 5 };
    await s.putUpload(upload);
    await s.putUpload({ ...upload, id: 'u2', name: 'x.png', created: 6, written: 6 });
    await s.setUploadReceived('u1', 7, 9);
    expect(await s.getUpload('u1')).toEqual({ ...upload, received: 7, written: 9 });
    expect((await s.uploads()).map((u) => [u.id, u.name])).toEqual([['u1', null], ['u2', 'x.png']]);
    await s.deleteUpload('u2');
    expect(await s.getUpload('u2')).toBeUndefined();
    expect((await s.uploads()).map((u) => u.id)).toEqual(['u1']);
  });

  it('records media once by hash, and its uploaders, deleting the upload', async () => {
    const s = open();
    const hash = 'a'.repeat(64);
    await s.putUpload({ id: 'u1', user: 'bob', device: 'd', kind: 'file', peer: 'carol', size: 3, mime: 'text/plain', sha256: hash, name: 'b.txt', received: 3, created: 1, written: 1 });
    const media = { hash, size: 3, mime: 'text/plain', kind: 'file' as const, name: 'a.txt', created: 1 };
    await s.addMedia(media, 'alice', null);
    await s.addMedia({ ...media, name: 'b.txt', created: 2 }, 'bob', 'u1');
    expect(await s.getMedia(hash)).toEqual(media);
    expect(await s.getUpload('u1')).toBeUndefined();
    expect(await s.mayReadMedia(hash, 'alice')).toBe(true);
    expect(await s.mayReadMedia(hash, 'bob')).toBe(true);
    expect(await s.mayReadMedia(hash, 'carol')).toBe(false);
    expect(await s.getMedia('b'.repeat(64))).toBeUndefined();
  });

  it("lists one user's uploads in progress, oldest first", async () => {
    const s = open();
    const upload = { id: 'u1', user: 'alice', device: 'd', kind: 'file' as const, peer: 'bob', size: 10, mime: 'text/plain', sha256: 'f'.repeat(64), name: null, received: 0, created: 5, written: 5 };
    await s.putUpload({ ...upload, id: 'u2', created: 7, written: 7 });
    await s.putUpload(upload);
    await s.putUpload({ ...upload, id: 'u3', user: 'bob', peer: 'alice' });
    expect((await s.uploadsOf('alice')).map((u) => u.id)).toEqual(['u1', 'u2']);
    expect(await s.uploadsOf('carol')).toEqual([]);
  });

  it("counts the bytes of each hash a user uploaded once, against every uploader's quota", async () => {
    const s = open();
    const [a, b] = ['a'.repeat(64), 'b'.repeat(64)];
    expect(await s.uploadedBytes('alice')).toBe(0);
    await s.addMedia({ hash: a, size: 100, mime: 'image/png', kind: 'image', name: null, created: 1 }, 'alice', null);
    await s.addMedia({ hash: a, size: 100, mime: 'image/png', kind: 'image', name: null, created: 2 }, 'alice', null);
    await s.addMedia({ hash: b, size: 30, mime: 'image/png', kind: 'image', name: null, created: 3 }, 'alice', null);
    await s.addMedia({ hash: b, size: 30, mime: 'image/png', kind: 'image', name: null, created: 4 }, 'bob', null);
    expect(await s.uploadedBytes('alice')).toBe(130);
    expect(await s.uploadedBytes('bob')).toBe(30);
    expect(await s.hasUploaded(a, 'alice')).toBe(true);
    expect(await s.hasUploaded(a, 'bob')).toBe(false);
    // Reading it through a message is not uploading it.
    await s.commit([{ kind: 'media-ref', hash: a, conversation: 'alice/carol', from: 'alice' }]);
    expect(await s.mayReadMedia(a, 'carol')).toBe(true);
    expect(await s.hasUploaded(a, 'carol')).toBe(false);
    expect(await s.uploadedBytes('carol')).toBe(0);
  });

  it('lets both members read media a message references, when its sender may', async () => {
    const s = open();
    const hash = 'c'.repeat(64);
    await s.addMedia({ hash, size: 1, mime: 'image/png', kind: 'image', name: null, created: 1 }, 'alice', null);
    await s.commit([{ kind: 'media-ref', hash, conversation: 'alice/bob', from: 'alice' }]);
    expect(await s.mayReadMedia(hash, 'bob')).toBe(true);
    // Bob forwards it: he may read it now, so carol may too.
    await s.commit([{ kind: 'media-ref', hash, conversation: 'bob/carol', from: 'bob' }]);
    expect(await s.mayReadMedia(hash, 'carol')).toBe(true);
    // Naming a hash one may not read grants nothing.
    await s.commit([{ kind: 'media-ref', hash, conversation: 'dave/eve', from: 'dave' }]);
    expect(await s.mayReadMedia(hash, 'eve')).toBe(false);
    expect(await s.mayReadMedia(hash, 'dave')).toBe(false);
  });

  it('lets a reference that outran its upload through once the sender uploads', async () => {
    const s = open();
    const hash = 'd'.repeat(64);
    await s.commit([{ kind: 'media-ref', hash, conversation: 'alice/bob', from: 'alice' }]);
    await s.commit([{ kind: 'media-ref', hash, conversation: 'bob/carol', from: 'bob' }]);
    expect(await s.mayReadMedia(hash, 'bob')).toBe(false);
    await s.addMedia({ hash, size: 1, mime: 'image/png', kind: 'image', name: null, created: 1 }, 'alice', null);
    expect(await s.mayReadMedia(hash, 'bob')).toBe(true);
    // Only alice's own references went through: bob's waits for bob.
    expect(await s.mayReadMedia(hash, 'carol')).toBe(false);
    await s.addMedia({ hash, size: 1, mime: 'image/png', kind: 'image', name: null, created: 2 }, 'bob', null);
    expect(await s.mayReadMedia(hash, 'carol')).toBe(true);
  });

  it("drops a conversation's reference to media (and one waiting for its upload), leaving the uploader and other conversations", async () => {
    const s = open();
    const hash = 'e'.repeat(64);
    await s.addMedia({ hash, size: 1, mime: 'image/png', kind: 'image', name: null, created: 1 }, 'alice', null);
    await s.commit([
      { kind: 'media-ref', hash, conversation: 'alice/bob', from: 'alice' },
      { kind: 'media-ref', hash, conversation: 'alice/carol', from: 'alice' },
      { kind: 'media-ref', hash, conversation: 'dave/eve', from: 'dave' },
    ]);
    await s.commit([{ kind: 'media-unref', hash, conversation: 'alice/bob' }]);
    expect(await s.mayReadMedia(hash, 'bob')).toBe(false);
    expect(await s.mayReadMedia(hash, 'alice')).toBe(true);
    expect(await s.mayReadMedia(hash, 'carol')).toBe(true);
    // Dave's reference waited for his upload; it is dropped, so his upload later grants eve nothing.
    await s.commit([{ kind: 'media-unref', hash, conversation: 'dave/eve' }]);
    await s.addMedia({ hash, size: 1, mime: 'image/png', kind: 'image', name: null, created: 2 }, 'dave', null);
    expect(await s.mayReadMedia(hash, 'eve')).toBe(false);
  });

  it("forgets a deleted user's uploads: only media nothing else keeps goes", async () => {
    const s = open();
    const [only, shared, referenced, waiting] = ['1', '2', '3', '4'].map((c) => c.repeat(64)) as [string, string, string, string];
    const media = (hash: string) => ({ hash, size: 3, mime: 'image/png', kind: 'image' as const, name: null, created: 1 });
    await s.addMedia(media(only), 'alice', null);
    await s.addMedia(media(shared), 'alice', null);
    await s.addMedia(media(shared), 'bob', null);
    await s.addMedia(media(referenced), 'alice', null);
    // Bob forwarded it to carol: their conversation still references it.
    await s.commit([{ kind: 'media-ref', hash: referenced, conversation: 'bob/carol', from: 'alice' }]);
    // A reference of alice's waiting for an upload she never finished.
    await s.commit([{ kind: 'media-ref', hash: waiting, conversation: 'alice/bob', from: 'alice' }]);
    expect(await s.mediaOnlyOf('alice')).toEqual([only]);
    await s.forgetUploader('alice');
    expect(await s.getMedia(only)).toBeUndefined();
    expect(await s.getMedia(shared)).toBeDefined();
    expect(await s.getMedia(referenced)).toBeDefined();
    expect(await s.hasUploaded(shared, 'alice')).toBe(false);
    expect(await s.hasUploaded(shared, 'bob')).toBe(true);
    expect(await s.uploadedBytes('alice')).toBe(0);
    expect(await s.mayReadMedia(referenced, 'carol')).toBe(true);
    // The waiting reference is gone: a later upload of that hash by anyone else does not open it to alice/bob.
    await s.addMedia(media(waiting), 'alice', null);
    expect(await s.mayReadMedia(waiting, 'bob')).toBe(false);
    expect(await s.mediaOnlyOf('alice')).toEqual([waiting]);
  });
});
