/**
 * The photo worker: resizing and re-encoding (photo.ts) off the main thread,
 * so that a dozen camera photos chosen at once never stall typing or
 * scrolling. Each request carries an id its answer repeats: the result, or
 * how it failed.
 */
import { encodePhoto, PhotoUndecodable, type PhotoRequest } from './photo.ts';

addEventListener('message', (event: MessageEvent<{ id: number; request: PhotoRequest }>) => {
  const { id, request } = event.data;
  encodePhoto(request).then(
    (result) => postMessage({ id, ok: true, result }),
    (e: unknown) => postMessage({ id, ok: false, undecodable: e instanceof PhotoUndecodable, message: String(e) }),
  );
});
