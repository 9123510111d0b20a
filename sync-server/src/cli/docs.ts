/** Writes docs/errors.md and docs/permissions.md from their one source in @parley/protocol. */
import { writeFileSync } from 'node:fs';
import { errorsMarkdown, permissionsMarkdown } from '@parley/protocol';

writeFileSync(new URL('../../../docs/errors.md', import.meta.url), errorsMarkdown());
writeFileSync(new URL('../../../docs/permissions.md', import.meta.url), permissionsMarkdown());
