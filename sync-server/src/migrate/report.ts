/**
 * The summary of a migration as the operator reads it: one line per table
 * with both counts and what this run changed, the documents' checksums, where
 * the media files are, and the verdict.
 */
import type { MigrateSummary } from './migrate.ts';

export function formatSummary(summary: MigrateSummary): string {
  const width = Math.max(...summary.counts.map((c) => c.table.length));
  const lines = [
    `migrated ${summary.from} -> ${summary.to}`,
    `${'table'.padEnd(width)}  ${'sqlite'.padStart(9)}  ${'postgres'.padStart(9)}  this run`,
    ...summary.counts.map(
      (c) =>
        `${c.table.padEnd(width)}  ${String(c.sqlite).padStart(9)}  ${String(c.postgres).padStart(9)}  ` +
        (c.written + c.deleted === 0 ? 'unchanged' : `${c.written} written${c.deleted > 0 ? `, ${c.deleted} deleted` : ''}`) +
        (c.sqlite === c.postgres ? '' : '  MISMATCH'),
    ),
    `document checksums: ${summary.documents.checked - summary.documents.mismatched.length} of ${summary.documents.checked} equal` +
      (summary.documents.mismatched.length > 0 ? `; differ: ${summary.documents.mismatched.slice(0, 10).join(', ')}` : ''),
    `media files were not copied: they stay in ${summary.media.dir} (${summary.media.files} files` +
      (summary.media.missing > 0 ? `; ${summary.media.missing} media rows have no file there, as on SQLite` : '') +
      '). Start the PostgreSQL install with this data dir (PARLEY_DATA_DIR), or a shared copy of its media/ and secret files, so that it serves them and keeps its sessions and push keys.',
    summary.ok ? 'verified: every count and every document checksum is equal.' : `NOT verified:\n${summary.problems.map((p) => `  ${p}`).join('\n')}`,
  ];
  return `${lines.join('\n')}\n`;
}
