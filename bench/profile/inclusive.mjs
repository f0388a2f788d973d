// Inclusive share of named functions (their own time plus everything they call) in a V8 .cpuprofile,
// as a share of the non-idle samples. A function that calls itself is counted once, at its outermost frame.
// Usage: node bench/profile/inclusive.mjs D/CPU.<...>.cpuprofile authenticate handleOrderCommand ...
import { readFileSync } from 'node:fs';

const [file, ...names] = process.argv.slice(2);
if (file === undefined || names.length === 0) throw new Error('usage: inclusive.mjs PROFILE functionName...');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);

const selfUs = new Map();
let busyUs = 0;
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + us);
  if (nodes.get(id).callFrame.functionName !== '(idle)') busyUs += us;
});
const inclusiveUs = new Map();
const inclusiveOf = (id) => {
  if (!inclusiveUs.has(id)) inclusiveUs.set(id, (nodes.get(id).children ?? []).reduce((sum, c) => sum + inclusiveOf(c), selfUs.get(id) ?? 0));
  return inclusiveUs.get(id);
};
const insideSame = (id, name) => {
  for (let up = parent.get(id); up !== undefined; up = parent.get(up)) if (nodes.get(up).callFrame.functionName === name) return true;
  return false;
};
console.log(`busy ${(busyUs / 1000).toFixed(0)} ms of samples`);
for (const name of names) {
  let us = 0;
  for (const n of profile.nodes) if (n.callFrame.functionName === name && !insideSame(n.id, name)) us += inclusiveOf(n.id);
  console.log(`${((100 * us) / busyUs).toFixed(1).padStart(6)}% of busy  ${name}`);
}
