import { EsdbEventStore } from '../../src/eventstore/esdb.js';
import { EsdbStandIn, HOSTILE_SERVER, StandInLog } from '../support/esdbStandIn/server.js';
import { runEventStoreContract } from './contract.js';

/**
 * The EventStore contract against the esdb adapter: always on the in-memory stand-in (a test
 * double of the gRPC protocol, see tests/support/esdbStandIn/README.md), and on a real
 * EventStoreDB/KurrentDB node when EVENTSTORE_CONNECTION_STRING names one.
 *
 * The contract's streams are named `ct<random>-…`, so the adapter is told those are its streams.
 */
const CONTRACT_PREFIXES = ['ct'];

runEventStoreContract('esdb on the stand-in', async () => {
  const standIn = await EsdbStandIn.start();
  const store = new EsdbEventStore({ connectionString: standIn.connectionString, streamPrefixes: CONTRACT_PREFIXES });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await standIn.stop();
    },
  };
});

// The same contract with every real-server behaviour of issue 15 switched on: appends refused now
// and then with NotReady / Busy / Timeout, KurrentDB 25.0.0's end-of-log checkpoints (prepare 0),
// and the adapter connected to a lagging follower, not to the leader.
const FAST_RETRY = { maxAttempts: 10, initialDelayMs: 5, maxDelayMs: 50 };
runEventStoreContract('esdb through a lagging follower of a hostile stand-in', async () => {
  const log = new StandInLog();
  const leader = await EsdbStandIn.start({ log, faults: HOSTILE_SERVER });
  const follower = await EsdbStandIn.start({ log, faults: HOSTILE_SERVER });
  follower.followLeader({ host: '127.0.0.1', port: leader.port }, { lagging: true });
  const store = new EsdbEventStore({ connectionString: follower.connectionString, streamPrefixes: CONTRACT_PREFIXES, retry: FAST_RETRY });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await follower.stop();
      await leader.stop();
    },
  };
});

const realServer = process.env['EVENTSTORE_CONNECTION_STRING'];
if (realServer !== undefined && realServer !== '') {
  // A real node keeps every earlier run's events and its own system events: never empty.
  runEventStoreContract(
    'esdb on a real server',
    async () => {
      const store = new EsdbEventStore({ connectionString: realServer, streamPrefixes: CONTRACT_PREFIXES });
      return { store, cleanup: () => store.close() };
    },
    { startsEmpty: false },
  );
} else {
  // Not a skipped test: nothing to run without a server. Say so once, so the output names it.
  console.info('EventStore contract: esdb on a real server not run (EVENTSTORE_CONNECTION_STRING is not set)');
}
