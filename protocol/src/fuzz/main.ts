/**
 * `npm run fuzz:validator [-- --cases N] [--seed S] [--case I]`: the
 * differential fuzz of the validator against Yjs (differential.ts), 300,000
 * cases by default. Prints cases per second, how many updates the validator
 * accepted, and every failure with its seed and case, so that one can be run
 * again alone with `--seed S --case I`. Exits 1 on any failure.
 */
import { runFuzz, type Tally } from './differential.ts';

// The protocol package is compiled without Node's types (the web app imports it): the little of `process` used here.
declare const process: { argv: string[]; exitCode?: number };

function option(name: string): number | undefined {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? undefined : process.argv[at + 1];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} takes a whole number, not ${value}`);
  return n;
}

const one = option('case');
const seed = option('seed') ?? 1;
const cases = one === undefined ? (option('cases') ?? 300_000) : 1;

function line(tally: Tally): string {
  const perSecond = Math.round(tally.cases / (tally.ms / 1000));
  return `${tally.cases} cases, ${perSecond} cases/s, ${tally.accepted} accepted, ${Object.values(tally.byKind).reduce((a, b) => a + b, 0)} failures ${JSON.stringify(tally.byKind)}`;
}

console.log(`fuzz:validator seed ${seed}, ${one === undefined ? `${cases} cases` : `case ${one}`}`);
const tally = runFuzz(seed, cases, { from: one ?? 0, keep: one === undefined ? 10 : 1, onProgress: (t) => console.log(line(t)) });
for (const f of tally.failures) {
  console.log(`\nFAILURE ${f.kind} (seed ${f.seed}, case ${f.index}; run again: npm run fuzz:validator -- --seed ${f.seed} --case ${f.index})`);
  console.log(`  ${f.detail}`);
  console.log(`  steps: ${f.steps.join('; ')}`);
  console.log(`  update (base64): ${f.update}`);
}
console.log(`\n${line(tally)} in ${(tally.ms / 1000).toFixed(1)} s`);
if (tally.failures.length > 0) process.exitCode = 1;
