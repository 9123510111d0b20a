/**
 * Below the free-disk reserve the server refuses new messages (storage-full)
 * instead of acknowledging and then losing them: the device shows the
 * message as failed with the reason, and Retry sends it once there is room.
 */
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ERROR_MESSAGES } from '@parley/protocol';
import { expect, test } from '../fixtures.ts';
import { startServer } from '../server.ts';

/** A reserve no disk can keep: more than the whole file system the data directory is on. */
const disk = statfsSync(tmpdir());
test.use({ serverEnv: { PARLEY_MIN_FREE_DISK_BYTES: String(disk.blocks * disk.bsize + 1024 ** 3) } });

test('a message refused for lack of disk space shows as failed with the reason, and Retry sends it once there is room', async ({ parley }) => {
  await parley.signup('alice', 'Alice');
  await parley.signup('bob', 'Bob');
  const alice = await parley.signedIn('alice', 'alice');
  await alice.startChat('bob', 'Bob');
  await alice.send('is anyone there?');

  const bubble = alice.message('is anyone there?');
  await expect(bubble).toHaveAttribute('data-state', 'failed');
  const notSent = bubble.getByRole('button', { name: 'Not sent' });
  if (!(await bubble.getByText(ERROR_MESSAGES['storage-full']).isVisible())) await notSent.click();
  await expect(bubble.getByText(ERROR_MESSAGES['storage-full'])).toBeVisible();

  // The operator frees space: the same server, data and address, started with the default reserve.
  await parley.server.child.stop();
  const again = await startServer({ PARLEY_DATA_DIR: parley.server.dataDir, PARLEY_PORT: String(parley.server.port) });
  try {
    await bubble.getByRole('button', { name: 'Retry' }).click();
    await expect(bubble).toHaveAttribute('data-state', /sent|delivered|read/, { timeout: 20_000 });
    const bob = await parley.signedIn('bob', 'bob');
    await bob.openConversation('alice', 'Alice');
    await expect(bob.messageTexts()).toHaveText(['is anyone there?']);
  } finally {
    await again.child.stop();
  }
});
