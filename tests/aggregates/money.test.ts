import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalWallet,
  formatQuote,
  formatRtc,
  formatUnits,
  parseDecimalUnits,
  QUOTE_DECIMALS,
  RTC_DECIMALS,
  sameWallet,
  totalQuoteNano,
  WALLET_PATTERN,
} from '../../src/aggregates/order/index.js';

describe('parseDecimalUnits', () => {
  it.each([
    ['100', 6, 100_000_000n],
    ['100.5', 6, 100_500_000n],
    ['0.000001', 6, 1n],
    ['10000', 6, 10_000_000_000n],
    ['0.1', 9, 100_000_000n],
    ['0.000000001', 9, 1n],
    ['1000', 9, 1_000_000_000_000n],
    ['0', 6, 0n],
    ['007.25', 6, 7_250_000n],
  ] as const)('parses the string %s with %i decimals exactly', (input, decimals, expected) => {
    expect(parseDecimalUnits(input, decimals)).toBe(expected);
  });

  it.each([
    [100, 6, 100_000_000n],
    [100.5, 6, 100_500_000n],
    [0.1, 6, 100_000n],
    [0.1, 9, 100_000_000n],
    [0.000001, 6, 1n],
    [1e-7, 9, 100n],
    [5e-7, 9, 500n],
    [123456789.123456, 6, 123_456_789_123_456n],
    [0, 6, 0n],
  ] as const)('parses the JSON number %d with %i decimals as it is written', (input, decimals, expected) => {
    expect(parseDecimalUnits(input, decimals)).toBe(expected);
  });

  it('accepts trailing zeros beyond the precision: they change nothing', () => {
    expect(parseDecimalUnits('1.5000000000', 6)).toBe(1_500_000n);
    expect(parseDecimalUnits('0.100000000000', 9)).toBe(100_000_000n);
    expect(parseDecimalUnits('2.000000', 6)).toBe(2_000_000n);
  });

  it('refuses an amount with 7 decimals: never rounded', () => {
    expect(parseDecimalUnits('0.0000001', RTC_DECIMALS)).toBeNull();
    expect(parseDecimalUnits('1.0000005', RTC_DECIMALS)).toBeNull();
    expect(parseDecimalUnits('1.9999999', RTC_DECIMALS)).toBeNull();
  });

  it('refuses a price with 10 decimals: never rounded', () => {
    expect(parseDecimalUnits('0.0000000001', QUOTE_DECIMALS)).toBeNull();
    expect(parseDecimalUnits('0.1000000005', QUOTE_DECIMALS)).toBeNull();
  });

  it('refuses JSON numbers with too many decimals, including float artefacts', () => {
    expect(parseDecimalUnits(1.0000001, RTC_DECIMALS)).toBeNull();
    expect(parseDecimalUnits(1e-7, RTC_DECIMALS)).toBeNull();
    expect(parseDecimalUnits(1.5e-10, QUOTE_DECIMALS)).toBeNull();
    expect(parseDecimalUnits(0.1 + 0.2, RTC_DECIMALS)).toBeNull();
  });

  it.each([
    '', 'abc', '1.', '.5', '+1', '-1', '1e3', '1E-3', '0x10', '1,5', '1_000', '1.2.3', 'NaN', 'Infinity', '１', '1 000',
  ])('refuses the garbage string %j', (input) => {
    expect(parseDecimalUnits(input, RTC_DECIMALS)).toBeNull();
  });

  it.each([
    ['-1', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['1e21', 1e21],
  ])('refuses the number %s', (_name, input) => {
    expect(parseDecimalUnits(input, RTC_DECIMALS)).toBeNull();
  });

  it.each([[null], [undefined], [true], [{}], [[1]], [10n]])('refuses a non-decimal value %o', (input) => {
    expect(parseDecimalUnits(input, RTC_DECIMALS)).toBeNull();
  });

  it('refuses absurdly long whole parts', () => {
    expect(parseDecimalUnits('1'.repeat(31), RTC_DECIMALS)).toBeNull();
  });

  it('round-trips every formatted amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 24n }), fc.constantFrom(RTC_DECIMALS, QUOTE_DECIMALS), (units, decimals) => {
        expect(parseDecimalUnits(formatUnits(units, decimals), decimals)).toBe(units);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every string with one decimal too many unless the extra digit is zero', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 1, max: 9 }), (units, extra) => {
        const text = `${formatUnits(units, RTC_DECIMALS)}${extra}`;
        expect(parseDecimalUnits(text, RTC_DECIMALS)).toBeNull();
      }),
      { numRuns: 200 },
    );
  });
});

describe('formatUnits', () => {
  it.each([
    [100_000_000n, 6, '100.000000'],
    [100_000_000n, 9, '0.100000000'],
    [1n, 6, '0.000001'],
    [1n, 9, '0.000000001'],
    [0n, 6, '0.000000'],
    [10_000_000_000n, 6, '10000.000000'],
    [123_456_789n, 6, '123.456789'],
    [-1_500_000n, 6, '-1.500000'],
    [5n, 0, '5'],
    [12_345_678_901_234_567_890n, 9, '12345678901.234567890'],
  ] as const)('formats %s with %i decimals as %s', (units, decimals, expected) => {
    expect(formatUnits(units, decimals)).toBe(expected);
  });

  it('formats RTC with 6 and quote with 9 decimals', () => {
    expect(formatRtc(100_000_000n)).toBe('100.000000');
    expect(formatQuote(100_000_000n)).toBe('0.100000000');
  });
});

describe('totalQuoteNano', () => {
  it('is amount × price / 1,000,000 when exact', () => {
    expect(totalQuoteNano(100_000_000n, 100_000_000n)).toBe(10_000_000_000n); // 100 RTC × 0.1 = 10 quote
    expect(totalQuoteNano(1_000_000n, 1_000_000_000n)).toBe(1_000_000_000n); // 1 RTC × 1 = 1 quote
  });

  it('rounds an exact half up', () => {
    expect(totalQuoteNano(1n, 500_000n)).toBe(1n); // 0.5
    expect(totalQuoteNano(3n, 500_000n)).toBe(2n); // 1.5
    expect(totalQuoteNano(1n, 2_500_000n)).toBe(3n); // 2.5: half up, not to even
    expect(totalQuoteNano(5n, 100_000n)).toBe(1n); // 0.5
  });

  it('rounds below a half down and above a half up', () => {
    expect(totalQuoteNano(1n, 499_999n)).toBe(0n);
    expect(totalQuoteNano(1n, 500_001n)).toBe(1n);
    expect(totalQuoteNano(1n, 1_499_999n)).toBe(1n);
    expect(totalQuoteNano(1n, 1_500_000n)).toBe(2n);
  });

  it('stays exact beyond float precision (10,000 RTC at 1000 per RTC)', () => {
    expect(totalQuoteNano(10_000_000_000n, 1_000_000_000_000n)).toBe(10_000_000_000_000_000n);
    expect(totalQuoteNano(9_999_999_999n, 999_999_999_999n)).toBe(9_999_999_998_990_000n);
  });

  it('equals the quotient plus one exactly when the remainder is at least a half', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 10n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (amount, price) => {
        const product = amount * price;
        const quotient = product / 1_000_000n;
        const remainder = product % 1_000_000n;
        expect(totalQuoteNano(amount, price)).toBe(remainder * 2n >= 1_000_000n ? quotient + 1n : quotient);
      }),
      { numRuns: 300 },
    );
  });
});

describe('canonical wallets', () => {
  const wallet = `RTC${'a1b2c3d4e5'.repeat(4)}`;

  it('lower-cases the hex and keeps the RTC prefix', () => {
    expect(canonicalWallet(`RTC${'A1B2C3D4E5'.repeat(4)}`)).toBe(wallet);
    expect(canonicalWallet(wallet)).toBe(wallet);
  });

  it('treats the same wallet in any hex case as the same wallet', () => {
    expect(sameWallet(wallet, `RTC${wallet.slice(3).toUpperCase()}`)).toBe(true);
    expect(sameWallet(wallet, `RTC${'a1B2c3D4e5'.repeat(4)}`)).toBe(true);
  });

  it('never treats different wallets or a missing wallet as the same', () => {
    expect(sameWallet(wallet, `RTC${'a1b2c3d4e6'.repeat(4)}`)).toBe(false);
    expect(sameWallet(wallet, null)).toBe(false);
    expect(sameWallet(null, null)).toBe(false);
  });

  it('accepts RTC + 40 hex digits in any case, nothing else', () => {
    expect(WALLET_PATTERN.test(wallet)).toBe(true);
    expect(WALLET_PATTERN.test(`RTC${'A1B2C3D4E5'.repeat(4)}`)).toBe(true);
    expect(WALLET_PATTERN.test(`RTC${'a1b2c3d4e5'.repeat(4)}0`)).toBe(false);
    expect(WALLET_PATTERN.test(`rtc${'a1b2c3d4e5'.repeat(4)}`)).toBe(false);
    expect(WALLET_PATTERN.test(`RTC${'g1b2c3d4e5'.repeat(4)}`)).toBe(false);
  });
});
