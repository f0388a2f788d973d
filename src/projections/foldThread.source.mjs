// Entry of the rebuild's fold thread when the ledger runs from its TypeScript sources (tests, tsx):
// the thread registers tsx itself, since loader hooks of the parent thread do not reach a worker on
// Node 20. The built ledger runs dist/src/projections/foldThread.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./foldThread.ts');
