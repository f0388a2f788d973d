import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

/** What the shipped Dockerfile and docker-compose.yml set, read from the files themselves. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function dockerfileEnv(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const runtime = text.slice(text.indexOf('AS runtime'));
  const line = /^ENV (.+)$/m.exec(runtime)?.[1] ?? '';
  return Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]));
}

/** The `x-ledger-env` block of docker-compose.yml, plus the single ledger's own connection string. */
function composeEnv(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
  const block = text.slice(text.indexOf('x-ledger-env: &ledger-env'));
  const env: Record<string, string> = {};
  for (const line of block.split('\n').slice(1)) {
    if (line.trim() === '') break;
    const m = /^ {2}([A-Z_]+): "?([^"]*)"?$/.exec(line);
    if (m) env[m[1] as string] = m[2] as string;
  }
  return { ...env, EVENTSTORE_CONNECTION_STRING: 'esdb://kurrentdb:2113?tls=false' };
}

describe('the shipped deployment files', () => {
  it('the image refuses to start on its embedded sandbox: a deployment must name its node', () => {
    const env = dockerfileEnv();
    expect(env).toMatchObject({ HOST: '0.0.0.0' });
    expect(env['LEDGER_SANDBOX_PUBLIC']).toBeUndefined();
    expect(() => loadConfig(env)).toThrow('LEDGER_SANDBOX_PUBLIC=1');
    expect(loadConfig({ ...env, RUSTCHAIN_NODE: 'https://node.example', RC_ADMIN_KEY: 'k' }).host).toBe('0.0.0.0');
  });

  it('the development compose opts in to its sandbox deliberately, and starts', () => {
    const env = composeEnv();
    expect(env).toMatchObject({ HOST: '0.0.0.0', LEDGER_SANDBOX_PUBLIC: '1' });
    expect(loadConfig(env).sandboxPublic).toBe(true);
  });
});
