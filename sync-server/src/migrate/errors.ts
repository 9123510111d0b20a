/**
 * A migration refused before it wrote anything wrong: the message says what to
 * do (cli/migrate.ts prints it without a stack and exits 2). A mismatch found
 * by the verification is not an error: it is in the summary, and exits 1.
 */
export class MigrateError extends Error {
  override readonly name = 'MigrateError';
}
