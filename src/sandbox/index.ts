export { SandboxNode, DEFAULT_SANDBOX_ADMIN_KEY } from './sandboxNode.js';
export type { ControlHandler } from './sandboxNode.js';
export { startSandboxServer } from './server.js';
export type { SandboxServer, SandboxServerOptions } from './server.js';
export { createInProcessTransport, EMBEDDED_SANDBOX_BASE_URL } from './inProcessTransport.js';
export { ESCROW_WALLET, PLATFORM_FEE_WALLET, platformFeeMicroRtc, transferTxHash } from './ledger.js';
export { FAULT_MODES } from './types.js';
export type {
  AutoConfirm,
  FaultMode,
  SandboxJob,
  SandboxNodeOptions,
  SandboxReply,
  SandboxRequest,
  SandboxResponse,
  SandboxTransfer,
} from './types.js';
