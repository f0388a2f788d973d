import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Unit: the layering of src/, read from the import statements themselves. */
const SRC = join(import.meta.dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** A file's layer: its top folder under src/ (a file directly in src/ is a layer of its own). */
const layerOf = (path: string): string => relative(SRC, path).split(sep)[0] ?? '';

function layerGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = layerOf(file);
    for (const match of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)) {
      const to = layerOf(normalize(join(dirname(file), match[1] ?? '')));
      if (to !== from) graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
  }
  return graph;
}

function cycles(graph: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const walk = (node: string, path: string[]): void => {
    for (const next of graph.get(node) ?? []) {
      if (path.includes(next)) found.push([...path.slice(path.indexOf(next)), next].join(' → '));
      else walk(next, [...path, next]);
    }
  };
  for (const node of graph.keys()) walk(node, [node]);
  return found;
}

describe('architecture', () => {
  it('has no import cycle between the folders of src/', () => {
    const graph = layerGraph();
    expect(graph.get('app')?.has('settlement')).toBe(true);
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    expect(cycles(new Map([['a', new Set(['b'])], ['b', new Set(['a'])]]))).toContain('a → b → a');
  });

  it('calls the node only from src/settlement/ (and the gateways and sandbox that implement it)', () => {
    const nodeCall = /\.(lockEscrow|getJob|findJobByTitle|claimJob|deliverJob|acceptJob|cancelJob|transfer|listPending|balance)\(/;
    const callers = sourceFiles(SRC)
      .filter((file) => !['settlement', 'gateways', 'sandbox'].includes(layerOf(file)))
      .filter((file) => nodeCall.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file));
    expect(callers).toEqual([]);
  });

  it('keeps the decider free of I/O, validation and HTTP libraries', () => {
    const imports = sourceFiles(join(SRC, 'aggregates')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/from\s+'([^.][^']*)'/g)].map((m) => m[1]),
    );
    expect(imports.filter((name) => name !== 'node:crypto')).toEqual([]);
  });
});
