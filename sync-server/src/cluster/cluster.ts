/**
 * One process of a cluster (PARLEY_DATABASE_URL and PARLEY_REDIS_URL): the
 * Redis bus, the document leases on PostgreSQL, the document replicas and
 * the shared in-memory state, joined to this process's hub. docs/deploy.md
 * says how to run one; docs/architecture.md ("Scaling out") why it is built
 * this way.
 */
import type { Sessions } from '../auth/sessions.ts';
import type { Log } from '../log.ts';
import type { SyncHub } from '../sync/hub.ts';
import { RedisBus, type Bus } from './bus.ts';
import { DocLeases } from './leases.ts';
import { Replicas } from './replicas.ts';
import { ClusterState } from './state.ts';

export interface ClusterSettings {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** PARLEY_CLUSTER_SWEEP_MS */
  sweepMs: number;
  /** PARLEY_CLUSTER_HEARTBEAT_MS */
  heartbeatMs: number;
}

export interface ClusterNode {
  bus: Bus;
  close(): Promise<void>;
}

/**
 * The server's own writes (admin sends and imports, admin recalls, an
 * account deletion's recalls) run on
 * the leader of the conversation they write: here when this process leads
 * it, forwarded otherwise (Replicas.onLeader). Callers keep calling
 * `hub.writes` and `hub.recalls` as on one process.
 */
function routeServerWrites(hub: SyncHub, replicas: Replicas): void {
  const writes = hub.writes;
  const recalls = hub.recalls;
  const serverSend = writes.serverSend.bind(writes);
  const importMessages = writes.importMessages.bind(writes);
  const recall = recalls.recall.bind(recalls);
  const recallAllOf = recalls.recallAllOf.bind(recalls);
  const clearDocument = recalls.clearDocument.bind(recalls);
  replicas.handle('serverSend', serverSend);
  replicas.handle('importMessages', importMessages);
  replicas.handle('recall', recall);
  replicas.handle('recallAllOf', recallAllOf);
  replicas.handle('clearDocument', clearDocument);
  writes.serverSend = (...args) => replicas.onLeader('serverSend', args);
  writes.importMessages = (...args) => replicas.onLeader('importMessages', args);
  recalls.recall = (...args) => replicas.onLeader('recall', args);
  recalls.recallAllOf = (...args) => replicas.onLeader('recallAllOf', args);
  recalls.clearDocument = (...args) => replicas.onLeader('clearDocument', args);
}

export async function joinCluster(settings: ClusterSettings, hub: SyncHub, sessions: Sessions, log: Log): Promise<ClusterNode> {
  const bus = await RedisBus.connect(settings.redisUrl, settings.redisPrefix, log);
  let replicas: Replicas | null = null;
  const leases = await DocLeases.open(settings.databaseUrl, bus.node, log, () => replicas?.leasesLost());
  replicas = new Replicas(bus, leases, hub.registry, hub.judging, log, { sweepMs: settings.sweepMs });
  hub.joinCluster(replicas);
  routeServerWrites(hub, replicas);
  const state = new ClusterState(bus, hub, sessions, log, settings.heartbeatMs);
  log.info({ event: 'cluster-joined', node: bus.node }, 'cluster: this process joined');
  return {
    bus,
    close: async () => {
      state.close();
      replicas.close();
      await leases.close();
      await bus.close();
    },
  };
}
