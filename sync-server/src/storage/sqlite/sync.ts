/** A store's methods as SQLite runs them: synchronously, with the result the store's promise resolves with. */
export type Sync<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never };
