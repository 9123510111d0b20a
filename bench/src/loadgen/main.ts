/**
 * The load generator process: the harness forks it and sends jobs over IPC;
 * it holds the devices (WebSockets + Y.Docs) and does the measuring, so the
 * harness's own work never shares a thread with the clients.
 */
import { Fleet, idle } from './fleet.ts';
import type { Job, Reply } from './jobs.ts';

let fleet: Fleet | null = null;

function reply(message: Reply): void {
  process.send?.(message);
}

async function run(job: Job): Promise<void> {
  switch (job.type) {
    case 'connect':
      await fleet?.disconnect();
      fleet = new Fleet(job.target);
      return reply({ type: 'connect', result: await fleet.connect(job.conversations, job.devicesPerUser, job.concurrency) });
    case 'ramp':
      if (fleet === null) throw new Error('ramp before connect');
      return reply({ type: 'ramp', result: await fleet.ramp(job.rates, job.warmupMs, job.measureMs, job.drainMs, job.p99LimitMs) });
    case 'fixed':
      if (fleet === null) throw new Error('fixed before connect');
      return reply({ type: 'fixed', result: await fleet.runStep(job.rate, job.warmupMs, job.measureMs, job.drainMs) });
    case 'failover':
      if (fleet === null) throw new Error('failover before connect');
      return reply({ type: 'failover', result: await fleet.failover(job.conversation, job.server, job.pid, job.rate, job.beforeMs, job.timeoutMs) });
    case 'docStats':
      if (fleet === null) throw new Error('docStats before connect');
      return reply({ type: 'docStats', result: fleet.docStats() });
    case 'late':
      if (fleet === null) throw new Error('late before connect');
      return reply({ type: 'late', result: await fleet.lateDeliveries(job.waitMs) });
    case 'disconnect':
      await fleet?.disconnect();
      fleet = null;
      return reply({ type: 'disconnect' });
    case 'idle': {
      await fleet?.disconnect();
      const out = await idle(job.target, job.devices, job.concurrency);
      fleet = out.fleet;
      return reply({ type: 'idle', result: out.result });
    }
    case 'exit':
      await fleet?.disconnect();
      process.exit(0);
  }
}

process.on('message', (job: Job) => {
  run(job).catch((error: unknown) => reply({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});
// The harness is gone: nothing left to do.
process.on('disconnect', () => process.exit(0));
