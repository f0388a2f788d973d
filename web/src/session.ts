import { generateWalletKey, LedgerClient, walletKeyFromSeed, type SandboxChainInfo, type WalletKey } from '../../src/client/index.js';
import { createStore } from './store.js';

/**
 * The page's session: the ledger client (same origin), the trader's wallets, the operator's token.
 * Keys are made and kept in this page; they are never sent to the server. They reach local storage
 * only when the trader ticks "remember", after a warning. The admin token lives in memory only.
 */

export const client = new LedgerClient();

export interface NamedWallet {
  readonly label: string;
  readonly key: WalletKey;
}

export interface WalletState {
  readonly wallets: readonly NamedWallet[];
  readonly active: string | null;
  readonly remember: boolean;
}

const STORAGE_KEY = 'otc-ledger.wallets.v1';

function loadRemembered(): WalletState {
  try {
    const raw = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (!raw) return { wallets: [], active: null, remember: false };
    const saved = JSON.parse(raw) as { wallets: Array<{ label: string; seed: string }>; active: string | null };
    const wallets = saved.wallets.map((w) => ({ label: w.label, key: walletKeyFromSeed(w.seed) }));
    return { wallets, active: saved.active ?? wallets[0]?.key.wallet ?? null, remember: true };
  } catch {
    return { wallets: [], active: null, remember: false };
  }
}

export const walletStore = createStore<WalletState>(loadRemembered());

function persist(state: WalletState): void {
  if (state.remember) {
    const saved = { wallets: state.wallets.map((w) => ({ label: w.label, seed: w.key.seedHex })), active: state.active };
    localStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
  } else {
    localStorage.removeItem(STORAGE_KEY);
  }
}

function update(next: WalletState): void {
  walletStore.set(next);
  persist(next);
}

export function addWallet(key: WalletKey, label?: string): void {
  const state = walletStore.get();
  if (state.wallets.some((w) => w.key.wallet === key.wallet)) {
    update({ ...state, active: key.wallet });
    return;
  }
  const named = { label: label?.trim() || `Wallet ${state.wallets.length + 1}`, key };
  update({ ...state, wallets: [...state.wallets, named], active: key.wallet });
}

export const generateWallet = (label?: string): void => addWallet(generateWalletKey(), label);

export function removeWallet(wallet: string): void {
  const state = walletStore.get();
  const wallets = state.wallets.filter((w) => w.key.wallet !== wallet);
  update({ ...state, wallets, active: state.active === wallet ? wallets[0]?.key.wallet ?? null : state.active });
}

export const setActive = (wallet: string): void => update({ ...walletStore.get(), active: wallet });
export const setRemember = (remember: boolean): void => update({ ...walletStore.get(), remember });

export function activeWallet(state: WalletState = walletStore.get()): NamedWallet | null {
  return state.wallets.find((w) => w.key.wallet === state.active) ?? null;
}

export const ownsWallet = (state: WalletState, wallet: string | null): NamedWallet | null =>
  wallet === null ? null : state.wallets.find((w) => w.key.wallet.toLowerCase() === wallet.toLowerCase()) ?? null;

/** Whether the ledger runs on its embedded sandbox node (its controls answer): null until known. */
export const sandboxStore = createStore<boolean | null>(null);

/** The sandbox quote chain (LEDGER_QUOTE_CHAIN=sandbox), when the ledger runs one: null otherwise or until known. */
export const sandboxChainStore = createStore<SandboxChainInfo | null>(null);

export async function detectSandbox(): Promise<void> {
  const [state, chain] = await Promise.all([client.sandbox.state(), client.sandbox.chain.info()]);
  sandboxStore.set(state.ok);
  sandboxChainStore.set(chain.ok ? chain : null);
}

/**
 * On the sandbox chain each wallet of this page gets one of anvil's development accounts as its
 * quote address (the chain controls act only for those), in the order the wallets were added;
 * account 0 deployed the contracts and is left out. Null without a sandbox chain.
 */
export function sandboxQuoteAddress(chain: SandboxChainInfo | null, state: WalletState, wallet: string | undefined): string | null {
  if (chain === null || wallet === undefined) return null;
  const index = state.wallets.findIndex((w) => w.key.wallet === wallet);
  const spare = chain.dev_addresses.slice(1);
  return index < 0 || spare.length === 0 ? null : spare[index % spare.length] ?? null;
}

/** The operator's bearer token: memory only, gone when the page closes. */
export const adminTokenStore = createStore<string | null>(null);

/**
 * A preimage the ledger generated, shown once: kept only until the trader dismisses it. It is
 * never written to storage.
 */
export const revealStore = createStore<{ orderId: string; secret: string } | null>(null);
