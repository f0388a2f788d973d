import { describe, expect, it } from 'vitest';
import { decimalOfBaseUnits } from '../../web/src/baseUnits.js';

/** Unit: the page's display of a quote amount in base units, exact for amounts no float can hold. */
describe('decimalOfBaseUnits', () => {
  it('shows USDC and ETH amounts exactly', () => {
    expect(decimalOfBaseUnits('1000000', 6)).toBe('1');
    expect(decimalOfBaseUnits('2300000', 6)).toBe('2.3');
    expect(decimalOfBaseUnits('1', 6)).toBe('0.000001');
    expect(decimalOfBaseUnits('0', 6)).toBe('0');
    expect(decimalOfBaseUnits('123456789012345678901', 18)).toBe('123.456789012345678901');
  });

  it('leaves what is not an integer string as it came', () => {
    expect(decimalOfBaseUnits('1.5', 6)).toBe('1.5');
  });
});
