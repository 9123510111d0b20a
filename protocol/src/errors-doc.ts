/** docs/errors.md, rendered from ERROR_MESSAGES (protocol/src/codes.test.ts checks the file matches). */
import { ERROR_CODES, ERROR_MESSAGES } from './codes.ts';

export function errorsMarkdown(): string {
  return [
    '# Error codes',
    '',
    '<!-- Generated from ERROR_MESSAGES in protocol/src/codes.ts; regenerate with `npx tsx sync-server/src/cli/docs.ts`. -->',
    '',
    'Every refusal leaves the server as `{"error": {"code", "message"}}` over HTTP or as a',
    '`reject` / `refused` control frame on the sync wire, with one of these codes.',
    '',
    '| code | message |',
    '| --- | --- |',
    ...ERROR_CODES.map((c) => `| \`${c}\` | ${ERROR_MESSAGES[c].replace(/\|/g, '\\|')} |`),
    '',
  ].join('\n');
}
