/**
 * The one set of wallet fixtures: valid RTC wallets ("RTC" + 40 hex digits), so a test never
 * passes because a check skipped a malformed one.
 */
export const wallet = (hexDigit: string): string => `RTC${hexDigit.repeat(40)}`;

/** The decider's tests: a maker, a taker and someone who is neither. */
export const MAKER = `RTC${'a1b2c3d4e5'.repeat(4)}`;
export const TAKER = `RTC${'0f1e2d3c4b'.repeat(4)}`;
export const STRANGER = `RTC${'9988776655'.repeat(4)}`;

/** The projection, command and gateway tests: one digit repeated, easy to read in a failing row. */
export const SELLER = wallet('a');
export const BUYER = wallet('b');
export const THIRD = wallet('c');
