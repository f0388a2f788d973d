import type { Order } from '../../src/client/index.js';

/**
 * The quote leg of a matched order: what the buyer must lock (contract, token, amount, hashlock,
 * deadline, timelock window), its status as observed on chain, and, in sandbox mode, lock and
 * claim buttons. The ledger's chain side is not wired yet, so the order resource carries no
 * `quote_leg`: until it does, this section says so and offers no action. When it lands, render
 * its fields here and add the sandbox actions beside them.
 */
export function QuoteLegSection({ order }: { order: Order }) {
  if (order.status === 'open' || order.status === 'escrow_pending' || order.status === 'rejected') return null;
  return (
    <section aria-labelledby="quote-leg-title">
      <h2 id="quote-leg-title">Quote leg</h2>
      <p class="muted">
        This ledger does not follow the {order.quote_currency ?? 'quote'} chain yet: the buyer pays the seller there directly, and the
        seller's confirm (the preimage and that payment's transaction) releases the RTC to the buyer.
      </p>
    </section>
  );
}
