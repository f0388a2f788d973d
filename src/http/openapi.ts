import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { messageOf, statusOfCode } from './errorMap.js';
import { apiDescription, WALLET_AUTH_SCHEMA } from './openapiDescription.js';
import { EXAMPLE_ORDER_ID, WORKED_PLACE } from './schemas/examples.js';
import { OPERATIONS, type AnswerDoc, type OperationDoc } from './schemas/operations.js';

const EXAMPLE_WALLET = WORKED_PLACE.wallet;

type JsonSchema = Record<string, unknown>;
type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

/** What each error status means, before the codes that carry it. */
const STATUS_MEANING: Readonly<Record<number, string>> = {
  400: 'The request is invalid; nothing was written.',
  401: 'Not authenticated: the wallet signature (or the admin token) is missing or does not verify; nothing was written.',
  403: 'The wallet is not allowed to do this to this order.',
  404: 'No such order, version or resource.',
  409: 'The order (or the key, or the rebuild) is in a state that does not allow this now.',
  410: 'The order has expired.',
  412: 'If-Match names a version the order is no longer at.',
  413: 'The body is larger than 64 KiB.',
  414: 'A path segment is too long.',
  415: 'The body is not JSON.',
  422: 'Understood but refused: the node refused the escrow lock, or the Idempotency-Key was used with another body.',
  429: 'Too many requests from this address, or matches refused during a cool-down; see Retry-After.',
  500: 'An internal error; the detail is in the server log under the request id, never in the answer.',
  502: 'The node refused or lost a settlement step; the body says whether a retry can help.',
  503: 'Not ready, or the read models have not reached min_position within 5 s; retry shortly.',
};

const HEADERS = {
  etag: { type: 'string', description: 'The order\'s version, quoted ("3"): send it as If-Match on the next command.' },
  'idempotent-replayed': { type: 'string', description: '"true" when this is the stored answer to an earlier request with the same Idempotency-Key.' },
  'x-request-id': { type: 'string', description: 'The request id (yours when sane, else generated); also the correlation_id of the events written.' },
} as const;

/** Headers every answer of an error status carries: each 429 (rate limit, admin lock-out, match cool-down) says when to retry. */
const ERROR_HEADERS: Readonly<Record<number, Record<string, JsonSchema>>> = {
  429: { 'retry-after': { type: 'integer', minimum: 1, description: 'Seconds until a retry can succeed (rounded up): the rate-limit window, or the end of the match cool-down (cooldown_until).' } },
};

/** Error answers of one route, grouped by the status errorMap.ts gives each code. */
export function errorAnswers(codes: readonly string[]): Record<number, JsonSchema> {
  const byStatus = new Map<number, string[]>();
  for (const code of new Set(codes)) {
    const status = statusOfCode(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  // Given as `content`, so an error is documented as JSON even on a route that answers text (/metrics).
  return Object.fromEntries([...byStatus].map(([status, list]) => [status, {
    'x-response-description': `${STATUS_MEANING[status] ?? 'Refused.'} Codes: ${list.map((c) => `\`${c}\``).join(', ')}.`,
    ...(ERROR_HEADERS[status] === undefined ? {} : { headers: ERROR_HEADERS[status] }),
    content: {
      'application/json': {
        schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { type: 'object', properties: { error: { type: 'string', enum: list } } }] },
        examples: Object.fromEntries(list.map((code) => [code, { summary: code, value: { ok: false, error: code, message: messageOf(code) } }])),
      },
    },
  }]));
}

function answer(schema: JsonSchema | undefined, doc: AnswerDoc, produces: string): JsonSchema {
  const headers = Object.fromEntries(['x-request-id', ...(doc.headers ?? [])].map((h) => [h, HEADERS[h as keyof typeof HEADERS]]));
  const body = schema ?? { type: 'string' };
  return {
    ...body,
    'x-response-description': doc.description,
    'x-examples': { example: { summary: produces === 'application/json' ? 'answer' : produces, value: doc.example } },
    headers,
  };
}

function withExample(schema: unknown, example: unknown): JsonSchema {
  return { ...(schema as JsonSchema), 'x-examples': { example: { summary: 'a request (wallet signatures are real, by the development keys)', value: example } } };
}

/** Adds one example to each named property of a query or path schema (3.1: a JSON Schema `examples` array). */
function withParameterExamples(schema: unknown, examples: Readonly<Record<string, string>> | undefined): unknown {
  const s = schema as { properties?: Record<string, JsonSchema> } | undefined;
  if (s?.properties === undefined || examples === undefined) return schema;
  const properties = Object.fromEntries(Object.entries(s.properties).map(([name, p]) => [name, examples[name] === undefined ? p : { ...p, examples: [examples[name]] }]));
  return { ...s, properties };
}

/** Examples of parameters several routes share; a route's own (OPERATIONS) take precedence. */
const PARAMETER_EXAMPLES: Readonly<Record<string, string>> = {
  min_position: '42', id: EXAMPLE_ORDER_ID, wallet: EXAMPLE_WALLET, at_version: '2', before: `trade_${EXAMPLE_ORDER_ID}`,
};

/** Examples of the headers a command takes (every route that declares them gets these). */
const HEADER_EXAMPLES: Readonly<Record<string, string>> = { 'idempotency-key': 'desk-7f3a-place-0001', 'if-match': '"3"' };

/** `POST /api/orders/:id/match` etc.: how routes are keyed in OPERATIONS. */
const routeKey = (input: TransformInput): string => {
  const method = (input as { route?: { method?: unknown } }).route?.method;
  return `${Array.isArray(method) ? method.join(',') : String(method)} ${input.url}`;
};

/** Generic documentation for a route missing from OPERATIONS, flagged so a test catches it. */
function undocumented(key: string): OperationDoc {
  return { operationId: key.replace(/[^A-Za-z0-9]+/g, '_'), answers: {}, errors: ['internal_error'] };
}

/**
 * fastify-swagger's route transform: the zod schemas become JSON Schema (fastify-type-provider-zod),
 * then OPERATIONS adds what schemas cannot say. Route files stay as they are.
 */
export function documentRoute(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const out = jsonSchemaTransform(input);
  const schema = out.schema as Record<string, unknown>;
  if (schema['hide'] === true) return out;
  const key = routeKey(input);
  const doc = OPERATIONS[key] ?? undocumented(key);
  const produces = Array.isArray(schema['produces']) ? String(schema['produces'][0]) : 'application/json';
  const declared = (schema['response'] ?? {}) as Record<string, JsonSchema>;
  const responses: Record<string, JsonSchema> = {};
  for (const [status, answerDoc] of Object.entries(doc.answers)) responses[status] = answer(declared[status], answerDoc, produces);
  for (const [status, errorSchema] of Object.entries(errorAnswers(doc.errors))) responses[status] = errorSchema;
  return {
    url: out.url,
    schema: {
      ...schema,
      operationId: doc.operationId,
      ...(OPERATIONS[key] === undefined ? { 'x-undocumented': true } : {}),
      ...(schema['body'] === undefined || doc.body === undefined ? {} : { body: withExample(schema['body'], doc.body) }),
      ...(schema['querystring'] === undefined ? {} : { querystring: withParameterExamples(schema['querystring'], { ...PARAMETER_EXAMPLES, ...doc.parameters }) }),
      ...(schema['params'] === undefined ? {} : { params: withParameterExamples(schema['params'], { ...PARAMETER_EXAMPLES, ...doc.parameters }) }),
      ...(schema['headers'] === undefined ? {} : { headers: withParameterExamples(schema['headers'], HEADER_EXAMPLES) }),
      response: responses,
    },
  } as ReturnType<typeof jsonSchemaTransform>;
}

export interface DocsOptions {
  /** Where this instance listens (HOST, PORT), for `servers`. */
  readonly host: string;
  readonly port: number;
  readonly version: string;
}

/**
 * `servers`: the relative one works wherever the document was fetched from (behind a proxy too);
 * the configured address is added when it names a host a client can use (not 0.0.0.0 or ::).
 */
export function serversFor(host: string, port: number): { url: string; description: string }[] {
  const relative = { url: '/', description: 'This ledger (relative to where the document was fetched)' };
  if (host === '0.0.0.0' || host === '::' || host === '') return [relative];
  const name = host.includes(':') ? `[${host}]` : host;
  return [relative, { url: `http://${name}:${port}`, description: 'The address this instance was configured to listen on' }];
}

/** OpenAPI 3.1 at /openapi.json, Swagger UI at /docs. */
export function registerDocs(app: FastifyInstance, options: DocsOptions): void {
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'otc-ledger', version: options.version, description: apiDescription(), license: { name: 'MIT', identifier: 'MIT' } },
      servers: serversFor(options.host, options.port),
      tags: [
        { name: 'orders', description: 'Place, take, settle and cancel orders (state-changing calls are signed by the wallet)' },
        { name: 'market', description: 'Order book, trades and statistics' },
        { name: 'admin', description: 'Operator endpoints (bearer token)' },
        { name: 'service', description: 'Health, readiness, metrics' },
      ],
      components: {
        securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'LEDGER_ADMIN_TOKEN; with none configured every admin call is 401 unauthorized.' } },
        schemas: { WalletAuth: WALLET_AUTH_SCHEMA },
      },
    },
    transform: documentRoute,
    transformObject: jsonSchemaTransformObject,
  });
  app.register(swaggerUi, { routePrefix: '/docs' });
}
