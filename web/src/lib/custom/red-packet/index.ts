import { defineCustom } from '../types.ts';
import { describePacket, RedPacketActions, RedPacketData } from './schema.ts';

export const redPacket = defineCustom({
  kind: 'red-packet',
  label: 'Red packet',
  icon: '🧧',
  data: RedPacketData,
  actions: RedPacketActions,
  describe: describePacket,
  view: () => import('./RedPacketView.svelte'),
  compose: () => import('./RedPacketCompose.svelte'),
});
