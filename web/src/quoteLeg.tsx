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
        This ledger does not follow the quote chain yet: the {order.quote_currency ?? 'quote'} payment is settled between the parties,
        and the seller confirms it with the preimage and the quote transaction below.
      </p>
    </section>
  );
}
