import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ARTIFACT_PATH, renderArtifacts, SOLC_VERSION } from '../../scripts/contracts.js';
import { htlcArtifact, testUsdcArtifact } from '../../src/contracts/artifacts.js';

describe('the committed contract artifact', () => {
  it('equals a fresh compile of contracts/*.sol with the pinned solc, byte for byte', () => {
    const committed = readFileSync(ARTIFACT_PATH, 'utf8');
    expect(renderArtifacts()).toBe(committed);
  });

  it('names the pinned compiler and carries both contracts with their runtime code', () => {
    expect(readFileSync(ARTIFACT_PATH, 'utf8')).toContain(`solc ${SOLC_VERSION}, evmVersion cancun`);
    expect(htlcArtifact.deployedBytecode.length).toBeGreaterThan(1000);
    expect(htlcArtifact.abi.map((item) => ('name' in item ? item.name : '')).filter(Boolean)).toEqual(
      expect.arrayContaining(['createSwapETH', 'createSwapERC20', 'claim', 'refund', 'getSwap', 'getPreimage', 'SwapCreated', 'SwapClaimed', 'SwapRefunded']),
    );
    expect(testUsdcArtifact.abi.some((item) => 'name' in item && item.name === 'decimals')).toBe(true);
  });
});
