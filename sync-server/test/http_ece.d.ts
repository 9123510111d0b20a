/** The part of http_ece (no types of its own) the push tests use: decrypting what a push service receives. */
declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';

  interface Params {
    version?: 'aes128gcm' | 'aesgcm';
    /** The receiver's key pair (the browser's, in Web Push). */
    privateKey?: ECDH;
    /** The subscription's auth secret. */
    authSecret?: string | Buffer;
  }

  const ece: {
    decrypt(buffer: Buffer, params: Params): Buffer;
  };
  export = ece;
}
