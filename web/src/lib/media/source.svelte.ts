/**
 * Where a media reference loads from: the device's own copy while it has one
 * (a media message not acknowledged yet: a blob: URL, revoked when no longer
 * shown), else the server's URL, which the service worker answers from its
 * cache when it can. Construct it in a component's script: it lives as long as
 * the component.
 */
import { mediaUrl, type MediaRef } from '@parley/protocol';
import { untrack } from 'svelte';

export type LocalBlobs = ReadonlyMap<string, Blob> | undefined;

export class MediaSource {
  readonly #ref: () => MediaRef;
  readonly #local: () => LocalBlobs;
  #blobUrl = $state<string | null>(null);
  #blob = $derived.by(() => this.#local()?.get(this.#ref().hash));
  // Each snapshot of the store brings new Blob objects for the same bytes: only having one or not matters.
  #hasLocal = $derived(this.#blob !== undefined);

  constructor(ref: () => MediaRef, local: () => LocalBlobs) {
    this.#ref = ref;
    this.#local = local;
    $effect(() => {
      if (!this.#hasLocal) return;
      const blob = untrack(() => this.#blob);
      if (blob === undefined) return;
      const url = URL.createObjectURL(blob);
      this.#blobUrl = url;
      return () => {
        URL.revokeObjectURL(url);
        this.#blobUrl = null;
      };
    });
  }

  /** Null for a moment while the device's own copy is being opened. */
  get url(): string | null {
    if (this.#hasLocal) return this.#blobUrl;
    return mediaUrl(this.#ref().hash);
  }
}
