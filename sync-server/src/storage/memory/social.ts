/** Relations and settings, in memory. */
import type { InviteRow, RelationChange, RelationRow, SocialStore } from '../stores/social.ts';

export class MemorySocial implements SocialStore {
  private relations: RelationRow[] = [];
  private readonly values = new Map<string, unknown>();
  private readonly invites = new Map<string, InviteRow>();

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

  putInvite(invite: InviteRow): Promise<void> {
    this.invites.set(invite.id, { ...invite });
    return Promise.resolve();
  }

  inviteByHash(tokenHash: string): Promise<InviteRow | undefined> {
    const row = [...this.invites.values()].find((i) => i.tokenHash === tokenHash);
    return Promise.resolve(row && { ...row });
  }

  invitesOf(owner: string): Promise<InviteRow[]> {
    const rows = [...this.invites.values()].filter((i) => i.owner === owner).sort((a, b) => a.created - b.created);
    return Promise.resolve(rows.map((i) => ({ ...i })));
  }

  deleteInvites(owner: string, ids: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const id of ids) if (this.invites.get(id)?.owner === owner && this.invites.delete(id)) deleted++;
    return Promise.resolve(deleted);
  }
}
