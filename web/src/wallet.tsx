import { useState } from 'preact/hooks';
import { formatRtc, InvalidSeedError, walletKeyFromSeed, type Failure } from '../../src/client/index.js';
import {
  addWallet, client, generateWallet, removeWallet, sandboxChainStore, sandboxQuoteAddress, sandboxStore, setActive, setRemember, walletStore, type NamedWallet,
} from './session.js';
import { usePoll, useStore } from './store.js';
import { CopyButton, Done, Problem, Short } from './ui.js';

/** The wallet's balance at the node, where the ledger can see it (the sandbox node's state). */
function Balance({ wallet }: { wallet: string }) {
  const sandbox = useStore(sandboxStore);
  const [balance, setBalance] = useState<string | null>(null);
  usePoll(async () => {
    const answer = await client.sandbox.balanceMicroRtc(wallet);
    setBalance(answer.ok ? formatRtc(answer.balance_micro_rtc) : null);
  }, 3000, [wallet], sandbox === true);
  if (sandbox !== true) return <span class="muted">not known (real node)</span>;
  return <span>{balance === null ? '…' : `${balance} RTC`}</span>;
}

function FundForm({ wallet }: { wallet: string }) {
  const [amount, setAmount] = useState('1000');
  const [failure, setFailure] = useState<Failure | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const id = `fund-${wallet}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    const answer = await client.sandbox.fund(wallet, amount);
    setFailure(answer.ok ? null : answer);
    setDone(answer.ok ? `Funded ${amount} RTC at the sandbox node.` : null);
  };
  return (
    <form class="inline" onSubmit={submit}>
      <label for={id}>Sandbox funds (RTC)</label>
      <input id={id} inputMode="decimal" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} size={8} />
      <button type="submit">Fund</button>
      <Problem failure={failure} />
      {done ? <Done>{done}</Done> : null}
    </form>
  );
}

function WalletCard({ named, active }: { named: NamedWallet; active: boolean }) {
  const sandbox = useStore(sandboxStore);
  const chain = useStore(sandboxChainStore);
  const wallets = useStore(walletStore);
  const [showSeed, setShowSeed] = useState(false);
  const w = named.key.wallet;
  const quoteAddress = sandboxQuoteAddress(chain, wallets, w);
  return (
    <li class={`card${active ? ' active' : ''}`}>
      <h3>{named.label}{active ? ' (active)' : ''}</h3>
      <dl class="facts">
        <div><dt>Wallet</dt><dd><code class="wallet-id">{w}</code></dd></div>
        <div><dt>Public key</dt><dd><Short value={named.key.publicKeyHex} /></dd></div>
        <div><dt>Balance</dt><dd><Balance wallet={w} /></dd></div>
        {quoteAddress === null ? null : (
          <div><dt>Quote address (sandbox chain)</dt><dd><code class="quote-address">{quoteAddress}</code> <span class="muted">one of the sandbox chain's development accounts, used when this wallet places or takes an order</span></dd></div>
        )}
      </dl>
      <div class="actions">
        {active ? null : <button type="button" onClick={() => setActive(w)}>Use this wallet</button>}
        <button type="button" onClick={() => setShowSeed(!showSeed)} aria-expanded={showSeed}>{showSeed ? 'Hide seed' : 'Show seed'}</button>
        <button type="button" class="danger" onClick={() => { if (confirm(`Forget ${named.label}? Without its seed the wallet is lost.`)) removeWallet(w); }}>Forget</button>
      </div>
      {showSeed ? (
        <div class="notice warn">
          <p><strong>Anyone with this seed controls the wallet.</strong> Keep it offline; never paste it into a site you do not trust.</p>
          <p><code class="secret">{named.key.seedHex}</code></p>
          <CopyButton text={named.key.seedHex} label={`Seed of ${named.label}`} />
        </div>
      ) : null}
      {sandbox === true ? <FundForm wallet={w} /> : null}
    </li>
  );
}

export function WalletPage() {
  const state = useStore(walletStore);
  const [label, setLabel] = useState('');
  const [seed, setSeed] = useState('');
  const [importError, setImportError] = useState<string | null>(null);

  const importSeed = (e: Event) => {
    e.preventDefault();
    try {
      addWallet(walletKeyFromSeed(seed), label);
      setSeed('');
      setLabel('');
      setImportError(null);
    } catch (error) {
      setImportError(error instanceof InvalidSeedError ? error.message : 'the seed could not be imported');
    }
  };

  return (
    <div>
      <h1>Wallets</h1>
      <p>Keys are made and kept in this browser tab and sign your orders here. They are never sent to the ledger.</p>
      <form class="inline" onSubmit={(e) => { e.preventDefault(); generateWallet(label); setLabel(''); }}>
        <label for="wallet-label">Name for the next wallet (optional)</label>
        <input id="wallet-label" value={label} onInput={(e) => setLabel(e.currentTarget.value)} maxLength={40} />
        <button type="submit">Generate a new wallet</button>
      </form>
      <form class="inline" onSubmit={importSeed}>
        <label for="wallet-seed">Import a 32-byte seed (64 hex)</label>
        <input id="wallet-seed" type="password" autoComplete="off" spellcheck={false} value={seed} onInput={(e) => setSeed(e.currentTarget.value)} size={40} aria-describedby={importError ? 'seed-error' : undefined} />
        <button type="submit">Import</button>
        {importError ? <p id="seed-error" class="notice error" role="alert">{importError}</p> : null}
      </form>
      <div class="notice warn">
        <label class="check">
          <input type="checkbox" checked={state.remember} onChange={(e) => setRemember(e.currentTarget.checked)} />
          Remember my wallets in this browser (local storage)
        </label>
        <p>Stored seeds are readable by anything that runs on this site in this browser, and by anyone who uses this computer. Use it for sandbox wallets, not for real funds.</p>
      </div>
      {state.wallets.length === 0 ? <p class="muted">No wallet yet.</p> : (
        <ul class="cards" aria-label="Your wallets">
          {state.wallets.map((w) => <WalletCard key={w.key.wallet} named={w} active={w.key.wallet === state.active} />)}
        </ul>
      )}
    </div>
  );
}
