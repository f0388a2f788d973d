import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalMicroOf, nodeMicroOfFloat, rtcFloatOf, toNodeRtc } from '../../src/gateways/nodeAmounts.js';

/** The node's whole range: 0.000001 RTC up to well past its 10,000 RTC reward cap. */
const MAX_MICRO_RTC = 1_000_000_000_000_000n;

describe('node amounts', () => {
  it.each([
    [100_000n, 0.1],
    [9_999_999_999n, 9999.999999],
    [1n, 0.000001],
  ])('sends %s µRTC as the plain float %s', (micro, rtc) => {
    expect(toNodeRtc(micro)).toBe(rtc);
  });

  it.each([1_005_000n, 249n])('nudges %s µRTC, which the node would truncate one micro short from the plain float', (micro) => {
    expect(nodeMicroOfFloat(Number(micro) / 1e6)).toBe(micro - 1n);
    const sent = toNodeRtc(micro);
    expect(sent).not.toBeNull();
    expect(nodeMicroOfFloat(sent as number)).toBe(micro);
    expect(decimalMicroOf(sent)).toBe(micro);
  });

  it('round-trips every amount exactly through the node float, both by float and by decimal reading', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_MICRO_RTC }), (micro) => {
        const sent = toNodeRtc(micro);
        expect(sent).not.toBeNull();
        expect(nodeMicroOfFloat(sent as number)).toBe(micro);
        expect(decimalMicroOf(sent)).toBe(micro);
        expect(decimalMicroOf(rtcFloatOf(micro))).toBe(micro);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads decimals truncated at six places and refuses what is not a decimal', () => {
    expect(decimalMicroOf('12.3456789')).toBe(12_345_678n);
    expect(decimalMicroOf(1e-7)).toBe(0n);
    expect(decimalMicroOf(-1)).toBeNull();
    expect(decimalMicroOf('1e3')).toBeNull();
    expect(decimalMicroOf(Number.NaN)).toBeNull();
    expect(toNodeRtc(-1n)).toBeNull();
  });
});
