export * from './codes.ts';
export * from './limits.ts';
export * from './paths.ts';
export * from './schemas.ts';
export * from './validate.ts';
export * from './integrate.ts';
export * from './scan.ts';
export * from './split.ts';
export * from './wire.ts';
export * from './permissions.ts';
export * from './errors-doc.ts';
export * from './api.ts';
export * from './elements.ts';
export * from './media.ts';
export * from './push.ts';
export * from './names.ts';
export * from './privacy.ts';
// The hosted service's REST format (compat.ts) is '@parley/protocol/compat': only the server's /v4/ surface reads it,
// and the app's bundle would carry its schemas if this index exported them (zod schemas are not tree-shaken).
