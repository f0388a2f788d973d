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

export function matchRoute<H>(routes: readonly Route<H>[], method: string, path: string): RouteMatch<H> | null {
  const segments = splitPath(path);
  for (const route of routes) {
    if (route.method !== method.toUpperCase()) continue;
    const params = matchSegments(splitPath(route.pattern), segments);
    if (params) return { route, params };
  }
  return null;
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
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
