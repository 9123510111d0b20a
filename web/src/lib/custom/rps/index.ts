import { defineCustom } from '../types.ts';
import { RpsActions, RpsData, RpsSecret } from './schema.ts';

export const rps = defineCustom({
  kind: 'rps',
  label: 'Rock, paper, scissors',
  icon: '✊',
  data: RpsData,
  secret: RpsSecret,
  actions: RpsActions,
  describe: () => '✊✋✌️ Rock, paper, scissors',
  view: () => import('./RpsView.svelte'),
  compose: () => import('./RpsCompose.svelte'),
});
