/**
 * What the zod response check costs per answer: the serializer the HTTP layer installs
 * (fastify-type-provider-zod: safeParse of the route's response schema, then JSON.stringify) against
 * JSON.stringify alone, on a command's answer (`commandAnswer` with the example order, ~1.1 KB),
 * alternating per round, median of the rounds. The difference bounds what a compiled serialiser
 * could save per answer (a trade gets three).
 */
import { serializerCompiler } from 'fastify-type-provider-zod';
import { commandAnswer } from '../src/http/schemas/responses.js';
import { exampleOrder } from '../src/http/schemas/examples.js';
import type { Benchmark, Measurement } from './types.js';

export const responseSerialiseBenchmark: Benchmark = {
  name: 'response-serialise',
  description: 'zod-checked response serialisation vs JSON.stringify alone, per command answer',
  async run(options) {
    const data = { ok: true, order: exampleOrder('matched', 3), position: '123' };
    const compile = serializerCompiler as unknown as (route: { schema: unknown; method: string; url: string; httpStatus: string }) => (d: unknown) => string;
    const zodSerialise = compile({ schema: commandAnswer, method: 'POST', url: '/api/orders/:id/match', httpStatus: '200' });
    if (zodSerialise(data) !== JSON.stringify(data)) throw new Error('the example answer does not round-trip the schema unchanged');
    const time = (fn: () => unknown): number => {
      const started = performance.now();
      for (let i = 0; i < options.n; i++) fn();
      return performance.now() - started;
    };
    const zodMs: number[] = [];
    const plainMs: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      if (round % 2 === 0) {
        zodMs.push(time(() => zodSerialise(data)));
        plainMs.push(time(() => JSON.stringify(data)));
      } else {
        plainMs.push(time(() => JSON.stringify(data)));
        zodMs.push(time(() => zodSerialise(data)));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const row = (label: string, ms: number): Measurement => ({ label, ops: options.n, elapsedMs: ms, opsPerSec: options.n / (ms / 1000) });
    const zodUs = (median(zodMs) / options.n) * 1000;
    const plainUs = (median(plainMs) / options.n) * 1000;
    return {
      measurements: [row('zod check + JSON.stringify (installed)', median(zodMs)), row('JSON.stringify alone', median(plainMs))],
      notes: [
        `per answer (${JSON.stringify(data).length} bytes): zod ${zodUs.toFixed(1)} µs, stringify ${plainUs.toFixed(1)} µs; the check costs ${(zodUs - plainUs).toFixed(1)} µs (${((zodUs - plainUs) * 3).toFixed(0)} µs per trade of 3 answers)`,
        `zod / stringify (median of ${options.rounds} alternating rounds) = ${(zodUs / plainUs).toFixed(2)}`,
      ],
    };
  },
};
