/** A native wallet: "RTC" + 40 hex digits, any case on input. */
export const WALLET_PATTERN = /^RTC[0-9a-fA-F]{40}$/;

/**
 * The canonical form: "RTC" + lowercase hex. Every comparison (self-match, maker, seller) uses it,
 * so changing the hex case never makes a wallet look like someone else.
 */
export function canonicalWallet(wallet: string): string {
  return `RTC${wallet.slice(3).toLowerCase()}`;
}

export function sameWallet(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && canonicalWallet(a) === canonicalWallet(b);
}
