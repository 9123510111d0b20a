export * from './codes.ts';
export * from './limits.ts';
export * from './paths.ts';
export * from './schemas.ts';
export * from './validate.ts';
export * from './wire.ts';
