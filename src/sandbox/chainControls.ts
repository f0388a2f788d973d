/**
 * `/__sandbox/chain/*`: the sandbox quote chain's controls on the ledger's own port, so the web page,
 * the demo and a curl walk-through can play both parties of the atomic swap without a wallet. Mounted
 * only when the ledger started its own anvil (LEDGER_QUOTE_CHAIN=sandbox), and answered only to
 * loopback peers unless the operator exposed the sandbox deliberately (LEDGER_SANDBOX_PUBLIC=1, as
 * for the sandbox node's controls): they act for a party, which nobody should do from another
 * machine by accident, even with test value. A party is played only when its quote address is one of anvil's development
 * accounts (their keys are published), so these controls never act for an address someone typed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BaseError, ContractFunctionRevertedError, getAddress, isAddress, zeroAddress, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { ORDER_ID_PATTERN } from '../aggregates/order/events.js';
import type { OrderResource } from '../views/orderResource.js';
import type { SandboxChain } from './chain.js';

export interface SandboxChainControlsDeps {
  readonly chain: SandboxChain;
  /** The order as GET /api/orders/:id shows it; null when there is none. */
  readonly orderOf: (orderId: string) => Promise<OrderResource | null>;
  /** LEDGER_SANDBOX_PUBLIC: answer peers that are not loopback too (a development container). */
  readonly allowRemotePeers: boolean;
}

/** The chain controls' refusals: stable codes, a status each. */
export const SANDBOX_CHAIN_ERRORS = {
  sandbox_loopback_only: 403,
  sandbox_request_invalid: 400,
  order_not_found: 404,
  sandbox_order_not_on_chain: 409,
  sandbox_address_not_dev: 409,
  sandbox_swap_missing: 409,
  sandbox_chain_reverted: 409,
  sandbox_chain_unavailable: 502,
} as const;
export type SandboxChainErrorCode = keyof typeof SANDBOX_CHAIN_ERRORS;

class Refusal extends Error {
  constructor(readonly code: SandboxChainErrorCode, message: string) {
    super(message);
  }
}

/** The smallest valid timelock is one hour after the lock's block; this leaves a few blocks of room. */
const TIMELOCK_MARGIN_SECONDS = 3_600n + 120n;
const MAX_ADVANCE_SECONDS = 30 * 24 * 3_600;
const MAX_MINE_BLOCKS = 100;
/** Test value only, but bounded: 10^30 base units is far above any sandbox trade. */
const MAX_FUND_DIGITS = 30;

const orderId = z.string().regex(ORDER_ID_PATTERN, 'an order id is otc_ + 16 hex');
const hex32 = z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, '32 bytes as 64 hex').transform((s) => (s.startsWith('0x') ? s : `0x${s}`).toLowerCase() as Hex);
const baseUnits = z.string().regex(new RegExp(`^\\d{1,${MAX_FUND_DIGITS}}$`), `an integer string of at most ${MAX_FUND_DIGITS} digits`).transform(BigInt);
const address = z.string().refine((s) => isAddress(s, { strict: false }), '0x + 40 hex').transform((s) => getAddress(s));

const fundBody = z.strictObject({ address, eth_wei: baseUnits.optional(), usdc_base_units: baseUnits.optional() })
  .refine((b) => b.eth_wei !== undefined || b.usdc_base_units !== undefined, 'eth_wei or usdc_base_units is required');
const lockBody = z.strictObject({ order_id: orderId, timelock_seconds: z.number().int().positive().optional() });
const claimBody = z.strictObject({ order_id: orderId, preimage: hex32, swap_id: hex32.optional() });
const refundBody = z.strictObject({ order_id: orderId, swap_id: hex32.optional() });
const timeBody = z.strictObject({ seconds: z.number().int().min(1).max(MAX_ADVANCE_SECONDS) });
const mineBody = z.strictObject({ blocks: z.number().int().min(1).max(MAX_MINE_BLOCKS).default(1) });

/** Registers the routes on the ledger's app; hidden from the OpenAPI document like the sandbox node's. */
export function mountSandboxChainControls(app: FastifyInstance, deps: SandboxChainControlsDeps): void {
  const { chain } = deps;
  const route = (method: 'GET' | 'POST', path: string, handle: (body: unknown) => Promise<Record<string, unknown>>) =>
    app.route({
      method, url: `/__sandbox/chain/${path}`, schema: { hide: true },
      handler: (request, reply) => answer(request, reply, deps.allowRemotePeers, () => handle(request.body ?? {})),
    });
  route('GET', 'info', () => info(chain));
  route('POST', 'fund', async (raw) => {
    const body = parse(fundBody, raw);
    if (body.eth_wei !== undefined) await chain.fundEth(body.address, body.eth_wei);
    if (body.usdc_base_units !== undefined) await chain.fundUsdc(body.address, body.usdc_base_units);
    return { address: body.address, usdc_balance_base_units: (await chain.usdcBalance(body.address)).toString() };
  });
  route('POST', 'lock', async (raw) => lock(deps, parse(lockBody, raw)));
  route('POST', 'claim', async (raw) => {
    const body = parse(claimBody, raw);
    const parties = partiesOf(chain, await orderFor(deps, body.order_id));
    const swapId = body.swap_id ?? swapOf(parties.order);
    const txHash = await onChain(() => chain.claim(devOnly(chain, parties.seller, 'seller'), swapId, body.preimage));
    return { swap_id: swapId, tx_hash: txHash };
  });
  route('POST', 'refund', async (raw) => {
    const body = parse(refundBody, raw);
    const parties = partiesOf(chain, await orderFor(deps, body.order_id));
    const swapId = body.swap_id ?? swapOf(parties.order);
    const txHash = await onChain(() => chain.refund(devOnly(chain, parties.buyer, 'buyer'), swapId));
    return { swap_id: swapId, tx_hash: txHash };
  });
  route('POST', 'time', async (raw) => {
    await chain.advanceTime(parse(timeBody, raw).seconds);
    return { head: await head(chain) };
  });
  route('POST', 'mine', async (raw) => {
    await chain.mine(parse(mineBody, raw).blocks);
    return { head: await head(chain) };
  });
}

async function answer(request: FastifyRequest, reply: FastifyReply, allowRemote: boolean, run: () => Promise<Record<string, unknown>>): Promise<FastifyReply> {
  // The socket's own peer, not request.ip: a forwarded-for header must not make a remote caller local.
  if (!allowRemote && !isLoopback(request.socket.remoteAddress)) return refuse(reply, new Refusal('sandbox_loopback_only', 'the sandbox chain controls answer loopback callers only'));
  try {
    return await reply.code(200).send({ ok: true, ...(await run()) });
  } catch (error) {
    if (error instanceof Refusal) return refuse(reply, error);
    throw error;
  }
}

const refuse = (reply: FastifyReply, refusal: Refusal): FastifyReply =>
  reply.code(SANDBOX_CHAIN_ERRORS[refusal.code]).send({ ok: false, error: refusal.code, message: refusal.message });

export const isLoopback = (ip: string | undefined): boolean =>
  ip !== undefined && (ip === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip));

function parse<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
  throw new Refusal('sandbox_request_invalid', issues);
}

async function head(chain: SandboxChain) {
  const block = await chain.latestBlock();
  return { number: block.number.toString(), timestamp: isoOf(block.timestamp), timestamp_seconds: Number(block.timestamp) };
}

const isoOf = (seconds: bigint): string => new Date(Number(seconds) * 1000).toISOString();
const secondsOf = (iso: string): bigint => BigInt(Math.floor(Date.parse(iso) / 1000));

async function info(chain: SandboxChain) {
  return {
    rpc_url: chain.rpcUrl, chain_id: chain.chainId, contract: chain.htlcAddress, token: chain.usdcAddress,
    head: await head(chain),
    dev_addresses: chain.devAddresses,
  };
}

async function orderFor(deps: SandboxChainControlsDeps, id: string): Promise<OrderResource> {
  return (await deps.orderOf(id)) ?? reject('order_not_found', 'no order has that id');
}

interface Parties {
  readonly order: OrderResource;
  readonly seller: Address;
  readonly buyer: Address;
}

/** The seller's and the buyer's quote addresses: a sell order's maker sells, a buy order's maker buys. */
function partiesOf(chain: SandboxChain, order: OrderResource): Parties {
  const leg = order.quote_leg;
  if (leg === null || leg.mode !== 'sandbox' || leg.chain_id !== chain.chainId) {
    return reject('sandbox_order_not_on_chain', 'this order\'s quote leg is not on the sandbox chain');
  }
  const [seller, buyer] = order.side === 'sell' ? [order.maker_eth_address, order.taker_eth_address] : [order.taker_eth_address, order.maker_eth_address];
  if (seller === null || buyer === null || order.taker_wallet === null) {
    return reject('sandbox_order_not_on_chain', 'the order is not matched with both parties\' quote addresses yet');
  }
  return { order, seller: getAddress(seller), buyer: getAddress(buyer) };
}

/** anvil's development accounts only: their keys are public, so acting for them takes nobody's funds. */
function devOnly(chain: SandboxChain, who: Address, role: 'seller' | 'buyer'): Address {
  if (chain.devAddresses.some((a) => a.toLowerCase() === who.toLowerCase())) return who;
  return reject('sandbox_address_not_dev', `the ${role}'s quote address is not one of the sandbox chain's development accounts (see GET /__sandbox/chain/info)`);
}

function swapOf(order: OrderResource): Hex {
  return (order.quote_leg?.swap_id as Hex | null | undefined) ?? reject('sandbox_swap_missing', 'the ledger has seen no lock for this order yet; pass swap_id');
}

async function lock(deps: SandboxChainControlsDeps, body: z.output<typeof lockBody>) {
  const { chain } = deps;
  const parties = partiesOf(chain, await orderFor(deps, body.order_id));
  const leg = parties.order.quote_leg!;
  const buyer = devOnly(chain, parties.buyer, 'buyer');
  const timelock = body.timelock_seconds === undefined ? await defaultTimelock(chain, leg.timelock_min) : BigInt(body.timelock_seconds);
  const request = {
    buyer, seller: parties.seller, hashlock: `0x${parties.order.htlc_hash ?? ''}` as Hex, timelock, orderId: parties.order.order_id,
    amount: BigInt(leg.amount_base_units ?? '0'),
  };
  const receipt = await onChain(() => (leg.token === null || leg.token === zeroAddress ? chain.lockEth(request) : chain.lockUsdc(request)));
  return { swap_id: receipt.swapId, tx_hash: receipt.txHash, block_number: receipt.blockNumber.toString(), timelock: isoOf(timelock), timelock_seconds: Number(timelock) };
}

/** The earliest timelock the ledger accepts, or one hour (and a margin) after the head if that is later. */
async function defaultTimelock(chain: SandboxChain, timelockMin: string | null): Promise<bigint> {
  const afterHead = (await chain.latestBlock()).timestamp + TIMELOCK_MARGIN_SECONDS;
  const min = timelockMin === null ? 0n : secondsOf(timelockMin);
  return min > afterHead ? min : afterHead;
}

/**
 * A chain write, with the contract's refusal named by its error (NotSeller, Expired, ...). The
 * message never carries viem's own text: it quotes the call's arguments, and a claim's is the preimage.
 */
async function onChain<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const reverted = error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError) {
      return reject('sandbox_chain_reverted', `the contract refused: ${reverted.data?.errorName ?? reverted.reason ?? 'reverted'}`);
    }
    return reject('sandbox_chain_unavailable', 'the sandbox chain did not take the transaction');
  }
}

function reject(code: SandboxChainErrorCode, message: string): never {
  throw new Refusal(code, message);
}
