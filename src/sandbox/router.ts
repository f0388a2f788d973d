/** A tiny path router: patterns like `/agent/jobs/:id/claim`, matched segment by segment. */

export interface Route<H> {
  readonly method: string;
  readonly pattern: string;
  readonly handler: H;
}

export interface RouteMatch<H> {
  readonly route: Route<H>;
  readonly params: Record<string, string>;
}

/** The name faults and request counts use for a route: `POST /agent/jobs/:id/accept`. */
export const endpointName = (route: Route<unknown>): string => `${route.method} ${route.pattern}`;

const splitPath = (path: string): string[] => path.split('/').filter((s) => s.length > 0);

/**
 * Each pattern split once: the in-process node matches every call of every trade against some
 * twenty routes, and splitting each pattern again per call was the sandbox's largest allocation.
 */
const patternSegments = new Map<string, readonly string[]>();

function segmentsOf(pattern: string): readonly string[] {
  let segments = patternSegments.get(pattern);
  if (segments === undefined) {
    segments = splitPath(pattern);
    patternSegments.set(pattern, segments);
  }
  return segments;
}

export function matchRoute<H>(routes: readonly Route<H>[], method: string, path: string): RouteMatch<H> | null {
  const segments = splitPath(path);
  const upper = method.toUpperCase();
  for (const route of routes) {
    if (route.method !== upper) continue;
    const params = matchSegments(segmentsOf(route.pattern), segments);
    if (params) return { route, params };
  }
  return null;
}

function matchSegments(pattern: readonly string[], segments: readonly string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index++) {
    const part = pattern[index] as string;
    const segment = segments[index] as string;
    if (part.startsWith(':')) {
      const decoded = safeDecode(segment);
      if (decoded === null) return null;
      params[part.slice(1)] = decoded;
    } else if (part !== segment) {
      return null;
    }
  }
  return params;
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
