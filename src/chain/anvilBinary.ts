/**
 * Where the anvil binary is. `@foundry-rs/anvil` ships it in one optional dependency per platform
 * (`@foundry-rs/anvil-linux-amd64`, …), installed from the npm registry like any package; its own
 * postinstall script only downloads a fallback when that dependency is missing, so the project
 * declines the script (package.json `allowScripts`) and nothing is ever fetched at run time.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const ARCH_NAMES: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64' };

/** The platform package's name, e.g. `@foundry-rs/anvil-linux-amd64`; null on an unsupported platform. */
export function anvilPackageName(platform: string = process.platform, arch: string = process.arch): string | null {
  const archName = ARCH_NAMES[arch];
  if (!archName || !['linux', 'darwin', 'win32'].includes(platform)) return null;
  return `@foundry-rs/anvil-${platform}-${archName}`;
}

/** The absolute path of the anvil executable; throws with a clear message when it is not installed. */
export function anvilBinaryPath(): string {
  const name = anvilPackageName();
  if (name === null) throw new Error(`anvil: no @foundry-rs/anvil build for ${process.platform}/${process.arch}`);
  const binary = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve(`${name}/bin/${binary}`);
  } catch {
    throw new Error(`anvil: ${name} is not installed (run npm ci; optional dependencies must not be omitted)`);
  }
  if (!existsSync(path)) throw new Error(`anvil: ${path} is missing`);
  return path;
}
