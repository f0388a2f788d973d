import { ConfigError } from '../../src/config.js';

/**
 * What a configuration check says: 'no error' when `fn` passes, the ConfigError's one-line message
 * when it refuses, and `unexpected: ...` for anything else (a crash is never a refusal). Shared by
 * the config, quote-chain config and start-check tests.
 */
export function refusalOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return error instanceof ConfigError ? error.message : `unexpected: ${String(error)}`;
  }
}
