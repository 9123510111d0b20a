/** Relations and settings, in memory. */
import type { RelationChange, RelationRow, SocialStore } from '../stores/social.ts';

export class MemorySocial implements SocialStore {
  private relations: RelationRow[] = [];
  private readonly values = new Map<string, unknown>();

  relationsOf(user: string): Promise<RelationRow[]> {
    const own = this.relations.filter((r) => r.owner === user);
    const asked = this.relations.filter((r) => r.other === user && r.kind === 'request');
    return Promise.resolve([...own, ...asked].map((r) => ({ ...r })));
  }

  changeRelations(changes: readonly RelationChange[]): Promise<void> {
    for (const c of changes) {
      const key = c.op === 'put' ? c.row : c;
      this.relations = this.relations.filter((r) => !(r.owner === key.owner && r.kind === key.kind && r.other === key.other));
      if (c.op === 'put') this.relations.push({ ...c.row });
    }
    return Promise.resolve();
  }

  settings(): Promise<Record<string, unknown>> {
    return Promise.resolve(Object.fromEntries(this.values));
  }

  putSetting(key: string, value: unknown): Promise<void> {
    this.values.set(key, structuredClone(value));
    return Promise.resolve();
  }
}
