/**
 * What `JSON.parse(JSON.stringify(value))` gives, built without the text in between, for the plain
 * data the sandbox node answers with; `NOT_PLAIN` for anything whose round trip this does not
 * reproduce exactly, so the caller takes the real JSON path for it (and fails the way it fails).
 *
 * Why: the in-process transport stands in for a socket, so the client must see what it would read
 * off the wire. Serialising each answer to text only to parse it back cost ~4 % of the request
 * thread at 64 clients (a list page of up to 100 jobs per lock). The copy is fresh, like a parse:
 * nothing the client holds is shared with the node.
 *
 * Reproduced here (each case is pinned by tests/gateways/jsonCopy.test.ts against the real round
 * trip): strings (well-formed stringify escapes lone surrogates and parse restores them), finite
 * numbers (shortest round-trip text; -0 prints as 0), booleans, null; non-finite numbers become
 * null; in objects, undefined / function / symbol values drop the key, in arrays they become null,
 * as do holes. Refused (NOT_PLAIN): bigint (stringify throws), objects with a prototype other than
 * Object.prototype or null (Date, Map, boxed primitives, class instances: toJSON and friends), any
 * object carrying a `toJSON` key or a `__proto__` key, arrays that are not plain, a top-level value
 * that stringifies to nothing, and nesting deeper than MAX_DEPTH (a cycle throws in stringify).
 */
export const NOT_PLAIN: unique symbol = Symbol('not plain JSON data');

const MAX_DEPTH = 64;

/** Marks a value that JSON drops from an object (and prints as null in an array). */
const SKIP: unique symbol = Symbol('dropped by JSON');

export function jsonCopy(value: unknown): unknown {
  try {
    const copy = copyValue(value, 0);
    return copy === SKIP ? NOT_PLAIN : copy;
  } catch (error) {
    if (error === NOT_PLAIN) return NOT_PLAIN;
    throw error;
  }
}

function copyValue(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // JSON prints -0 as "0" and NaN / ±Infinity as "null".
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case 'undefined':
    case 'function':
    case 'symbol':
      return SKIP;
    case 'bigint':
      throw NOT_PLAIN;
    case 'object':
      if (value === null) return null;
      if (depth >= MAX_DEPTH) throw NOT_PLAIN;
      return Array.isArray(value) ? copyArray(value, depth) : copyObject(value, depth);
  }
  throw NOT_PLAIN;
}

function copyArray(array: readonly unknown[], depth: number): unknown[] {
  if (Object.getPrototypeOf(array) !== Array.prototype) throw NOT_PLAIN;
  const out = new Array<unknown>(array.length);
  for (let i = 0; i < array.length; i++) {
    const item = copyValue(array[i], depth + 1);
    out[i] = item === SKIP ? null : item;
  }
  return out;
}

function copyObject(object: object, depth: number): Record<string, unknown> {
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    // JSON.parse makes "__proto__" an own property where an assignment would set the prototype.
    if (key === 'toJSON' || key === '__proto__') throw NOT_PLAIN;
    const item = copyValue((object as Record<string, unknown>)[key], depth + 1);
    if (item !== SKIP) out[key] = item;
  }
  return out;
}
