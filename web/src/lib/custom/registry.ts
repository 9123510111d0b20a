/**
 * Every custom message kind this app knows, by `kind`. To add one: a folder
 * beside this file with its schemas, its renderer (and composer), an index.ts
 * that calls defineCustom, and one line below (docs/custom-messages.md).
 */
import { redPacket } from './red-packet/index.ts';
import { rps } from './rps/index.ts';
import type { RegisteredKind } from './types.ts';

export const CUSTOM_KINDS: readonly RegisteredKind[] = [
  rps,
  redPacket,
];

export const registry: ReadonlyMap<string, RegisteredKind> = new Map(CUSTOM_KINDS.map((k) => [k.kind, k]));
