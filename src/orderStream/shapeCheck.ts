import type { z } from 'zod';

/**
 * A yes/no check compiled from the decode's own zod schema (issue 14: zod's parse of every event
 * rebuilt each event's data object, field by field, on every fold). It answers true only for data
 * that zod accepts unchanged: every field of the shape valid, and no field the shape does not name
 * (zod would strip it, so its output would differ from the input). Anything else, including any
 * schema construct this compiler does not know, answers false, and the decode asks zod itself,
 * which gives the verdict and the reason. So the check can only be stricter than zod, never looser,
 * and there is one schema to maintain.
 */
export type ShapeCheck = (value: unknown) => boolean;

interface Def {
  readonly type: string;
  readonly format?: string;
  readonly pattern?: RegExp;
  readonly checks?: readonly { readonly _zod: { readonly def: CheckDef } }[];
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly catchall?: unknown;
  readonly innerType?: z.ZodType;
  readonly entries?: Readonly<Record<string, unknown>>;
  readonly values?: readonly unknown[];
}

interface CheckDef {
  readonly check: string;
  readonly format?: string;
  readonly pattern?: RegExp;
  readonly value?: unknown;
  readonly inclusive?: boolean;
}

const NEVER: ShapeCheck = () => false;

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The check of one schema; NEVER for anything not known here (the decode then always asks zod). */
export function compileShape(schema: z.ZodType): ShapeCheck {
  const def = defOf(schema);
  switch (def.type) {
    case 'string': return stringCheck(def);
    case 'number': return numberCheck(def);
    case 'enum': return setCheck(Object.values(def.entries ?? {}));
    case 'literal': return setCheck(def.values ?? []);
    case 'nullable': return orCheck(null, def.innerType);
    case 'optional': return orCheck(undefined, def.innerType);
    case 'object': return objectCheck(def);
    default: return NEVER;
  }
}

function stringCheck(def: Def): ShapeCheck {
  const patterns: RegExp[] = [];
  if (def.format === 'datetime' && def.pattern instanceof RegExp) patterns.push(def.pattern);
  else if (def.format !== undefined) return NEVER;
  for (const { _zod: { def: check } } of def.checks ?? []) {
    if (check.check !== 'string_format' || check.format !== 'regex' || !(check.pattern instanceof RegExp)) return NEVER;
    patterns.push(check.pattern);
  }
  // A global or sticky regex keeps state between tests: not what zod's one-shot test means.
  if (patterns.some((p) => p.global || p.sticky)) return NEVER;
  return (v) => typeof v === 'string' && patterns.every((p) => p.test(v));
}

function numberCheck(def: Def): ShapeCheck {
  let integer = false;
  let min: { value: number; inclusive: boolean } | null = null;
  for (const { _zod: { def: check } } of def.checks ?? []) {
    if (check.check === 'number_format' && check.format === 'safeint') integer = true;
    else if (check.check === 'greater_than' && typeof check.value === 'number' && min === null) min = { value: check.value, inclusive: check.inclusive === true };
    else return NEVER;
  }
  return (v) => typeof v === 'number' && Number.isFinite(v) && (!integer || Number.isSafeInteger(v))
    && (min === null || (min.inclusive ? v >= min.value : v > min.value));
}

function setCheck(values: readonly unknown[]): ShapeCheck {
  const allowed = new Set(values);
  return (v) => allowed.has(v);
}

function orCheck(also: null | undefined, inner: z.ZodType | undefined): ShapeCheck {
  if (inner === undefined) return NEVER;
  const check = compileShape(inner);
  return (v) => v === also || check(v);
}

function objectCheck(def: Def): ShapeCheck {
  if (def.shape === undefined || def.catchall !== undefined) return NEVER;
  const fields = Object.entries(def.shape).map(([key, schema]) => ({ key, check: compileShape(schema), optional: defOf(schema).type === 'optional' }));
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) return false;
    const o = v as Record<string, unknown>;
    let present = 0;
    for (const field of fields) {
      const value = o[field.key];
      if (value === undefined && field.optional && !Object.hasOwn(o, field.key)) continue;
      if (!Object.hasOwn(o, field.key) || !field.check(value)) return false;
      present++;
    }
    // A field the shape does not name: zod strips it, so the data would not come out unchanged.
    let own = 0;
    for (const key in o) if (Object.hasOwn(o, key)) own++;
    return own === present;
  };
}
