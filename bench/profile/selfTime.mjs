// Self time per function in a V8 .cpuprofile (from `node --cpu-prof --cpu-prof-dir=D ...`), busiest first.
// Usage: node bench/profile/selfTime.mjs D/CPU.<...>.cpuprofile [top=40]
// Shares are of wall samples: on a loaded 2-core box a thread descheduled inside a function is billed to it.
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: selfTime.mjs PROFILE [top]');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const shortUrl = (url) => url.replace(/^file:\/\//, '').replace(/.*\/(node_modules\/[^/]+|dist\/src\/[^/]+|dist\/bench)\//, '$1/');

const byFunction = new Map();
let totalUs = 0;
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  const { functionName, url, lineNumber } = nodes.get(id).callFrame;
  const key = `${functionName || '(anon)'} ${shortUrl(url)}:${lineNumber}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  totalUs += us;
});
console.log(`total ${(totalUs / 1000).toFixed(0)} ms of samples`);
for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 40))) {
  console.log(`${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${key}`);
}
