import type { Config } from './config.js';
import { createRustchainGateway, type NodeAlert, type RustchainGateway } from './gateways/rustchain.js';
import { createInProcessTransport, EMBEDDED_SANDBOX_BASE_URL } from './sandbox/inProcessTransport.js';
import { DEFAULT_SANDBOX_ADMIN_KEY, SandboxNode } from './sandbox/index.js';

export interface NodeWiring {
  readonly gateway: RustchainGateway;
  /** Set when the ledger runs on the embedded sandbox node (RUSTCHAIN_NODE unset). */
  readonly sandbox: SandboxNode | null;
}

/**
 * The real node over HTTP when RUSTCHAIN_NODE is set; otherwise the embedded sandbox node, called
 * in-process through the same adapter, so the same classification of outcomes applies to both.
 * The embedded sandbox confirms payouts a few seconds after they are queued, so a newcomer sees
 * the whole settlement (queued, then confirmed by the reconciler) without touching the node.
 */
export function nodeFromConfig(config: Config, onAlert: (alert: NodeAlert) => void): NodeWiring {
  if (config.rustchainNode !== null) {
    const gateway = createRustchainGateway({
      baseUrl: config.rustchainNode,
      adminKey: config.rcAdminKey ?? '',
      allowInsecure: config.rustchainAllowInsecure,
      timeoutMs: config.nodeTimeoutMs,
      onAlert,
    });
    return { gateway, sandbox: null };
  }
  const sandbox = new SandboxNode({ autoConfirm: EMBEDDED_AUTO_CONFIRM_MS, maxActiveJobsPerPoster: 1_000_000 });
  const gateway = createRustchainGateway({
    baseUrl: EMBEDDED_SANDBOX_BASE_URL,
    adminKey: DEFAULT_SANDBOX_ADMIN_KEY,
    timeoutMs: config.nodeTimeoutMs,
    transport: createInProcessTransport(sandbox),
    onAlert,
  });
  return { gateway, sandbox };
}

const EMBEDDED_AUTO_CONFIRM_MS = 3000;
