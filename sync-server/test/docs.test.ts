import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, errorsMarkdown, permissionsMarkdown } from '@parley/protocol';

const doc = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

describe('generated docs', () => {
  it('docs/errors.md lists every code in ERROR_MESSAGES', () => {
    const text = doc('errors.md');
    for (const code of ERROR_CODES) expect(text, code).toContain(`| \`${code}\` |`);
    expect(text).toBe(errorsMarkdown());
  });

  it('docs/permissions.md is the table rendered from PERMISSION_CELLS', () => {
    expect(doc('permissions.md')).toBe(permissionsMarkdown());
  });
});
