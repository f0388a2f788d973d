import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { ChainStatus, Failure, ProjectionStatus, ReconcileSummary, RecoveryEntry, VerifyReport } from '../../src/client/index.js';
import { adminTokenStore, client } from './session.js';
import { usePoll, useStore } from './store.js';
import { Done, Problem, Short, Status, TableBox, When } from './ui.js';

/** Operator screens: only what the ledger's admin API offers, with a token kept in memory. */

function TokenForm() {
  const [token, setToken] = useState('');
  return (
    <form class="inline" onSubmit={(e) => { e.preventDefault(); if (token.trim()) adminTokenStore.set(token.trim()); setToken(''); }}>
      <label for="admin-token">Admin token</label>
      <input id="admin-token" type="password" autoComplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} />
      <button type="submit">Use token</button>
      <p class="muted">Kept in this page's memory only: reloading or closing the tab forgets it.</p>
    </form>
  );
}

function RedriveForm({ entry, token, onDone }: { entry: RecoveryEntry; token: string; onDone: (f: Failure | null, message: string | null) => void }) {
  const [operator, setOperator] = useState('');
  const [reason, setReason] = useState('');
  const id = entry.order_id;
  const submit = async (e: Event) => {
    e.preventDefault();
    const answer = await client.admin(token).redrive(id, operator.trim(), reason.trim());
    onDone(answer.ok ? null : answer, answer.ok ? `Re-drove ${id}: now ${answer.order.status}.` : null);
  };
  return (
    <form class="redrive" onSubmit={submit} aria-label={`Re-drive ${id}`}>
      <label for={`op-${id}`}>Operator</label>
      <input id={`op-${id}`} required maxLength={100} value={operator} onInput={(e) => setOperator(e.currentTarget.value)} />
      <label for={`reason-${id}`}>Reason</label>
      <input id={`reason-${id}`} required maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      <button type="submit" disabled={entry.status !== 'settlement_recovery'}>Re-drive</button>
    </form>
  );
}

function Recovery({ token }: { token: string }) {
  const [entries, setEntries] = useState<RecoveryEntry[] | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  usePoll(async () => {
    const answer = await client.admin(token).recovery();
    if (answer.ok) setEntries(answer.orders);
    else setFailure(answer);
  }, 3000, [token, tick]);
  return (
    <section aria-labelledby="recovery-title">
      <h2 id="recovery-title">Recovery queue</h2>
      <p class="muted">Orders in settlement_recovery, or in flight past the stuck threshold. A re-drive is recorded as OperatorRedriveRequested with your name and reason.</p>
      <Problem failure={failure} />
      {done ? <Done>{done}</Done> : null}
      {entries === null ? null : (
        <TableBox label="Recovery queue">
          <thead><tr><th scope="col">Order</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Reason</th><th scope="col">Idle</th></tr></thead>
          <tbody>
            {entries.length === 0 ? <tr><td colSpan={6} class="muted">Nothing needs an operator.</td></tr> : entries.map((e) => (
              <Fragment key={e.order_id}>
                <tr class="entry">
                  <td><a href={`#/order/${e.order_id}`}>{e.order_id}</a></td><td><Status status={e.status} /></td><td class="num">{e.attempts}</td>
                  <td>{e.last_error ?? '—'}</td><td>{e.recovery_reason ?? '—'}</td><td class="num">{Math.round(e.idle_ms / 1000)} s</td>
                </tr>
                <tr class="redrive-row">
                  <td colSpan={6}><RedriveForm entry={e} token={token} onDone={(f, m) => { setFailure(f); setDone(m); setTick((t) => t + 1); }} /></td>
                </tr>
              </Fragment>
            ))}
          </tbody>
        </TableBox>
      )}
    </section>
  );
}

function Projections({ token }: { token: string }) {
  const [list, setList] = useState<ProjectionStatus[] | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [started, setStarted] = useState<string | null>(null);
  const rebuilding = list?.some((p) => p.rebuild !== null) ?? false;
  usePoll(async () => {
    const answer = await client.admin(token).projections();
    if (answer.ok) setList(answer.projections);
    else setFailure(answer);
  }, rebuilding ? 500 : 3000, [token, started]);
  const rebuild = async (name: string) => {
    const answer = await client.admin(token).rebuild(name);
    setFailure(answer.ok ? null : answer);
    setStarted(answer.ok ? `Rebuild ${answer.rebuild_id} of ${name} started.` : null);
  };
  return (
    <section aria-labelledby="projections-title">
      <h2 id="projections-title">Read models</h2>
      <Problem failure={failure} />
      {started ? <Done>{started}</Done> : null}
      {list === null ? null : (
        <TableBox label="Read models">
          <thead><tr><th scope="col">Name</th><th scope="col">Position</th><th scope="col">Lag</th><th scope="col">State</th><th scope="col">Rebuild</th><th scope="col"><span class="sr-only">Action</span></th></tr></thead>
          <tbody>
            {list.map((p) => (
              <tr key={p.name}>
                <td>{p.name}</td><td class="num">{p.position}</td><td class="num">{p.lag}</td><td><Status status={p.state} /></td>
                <td>{p.rebuild ? <span role="status">at {p.rebuild.position}, {p.rebuild.lag} behind</span> : <span class="muted">—</span>}</td>
                <td><button type="button" onClick={() => void rebuild(p.name)} disabled={p.rebuild !== null}>Rebuild {p.name}</button></td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
    </section>
  );
}

function Reconcile({ token }: { token: string }) {
  const [summary, setSummary] = useState<ReconcileSummary | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    const answer = await client.admin(token).reconcile();
    setBusy(false);
    setFailure(answer.ok ? null : answer);
    if (answer.ok) setSummary(answer.summary);
  };
  return (
    <section aria-labelledby="reconcile-title">
      <h2 id="reconcile-title">Reconciler</h2>
      <button type="button" onClick={() => void run()} disabled={busy}>{busy ? 'Reconciling…' : 'Reconcile now'}</button>
      <Problem failure={failure} />
      {summary ? (
        <dl class="stats" aria-label="Reconciler summary" role="status">
          {Object.entries(summary).map(([k, v]) => <div key={k}><dt>{k.replace(/_/g, ' ')}</dt><dd>{v}</dd></div>)}
        </dl>
      ) : null}
    </section>
  );
}

function ChainFollower({ token }: { token: string }) {
  const [chain, setChain] = useState<ChainStatus | null | undefined>(undefined);
  const [failure, setFailure] = useState<Failure | null>(null);
  usePoll(async () => {
    const answer = await client.admin(token).chain();
    setFailure(answer.ok ? null : answer);
    if (answer.ok) setChain(answer.chain);
  }, 3000, [token]);
  const rows: Array<[string, preact.ComponentChildren]> = chain ? [
    ['Mode', chain.mode], ['Chain id', chain.chain_id], ['HTLC contract', <code>{chain.contract}</code>],
    ['Head', chain.head ? <>block {chain.head.number} at <When at={chain.head.timestamp} /></> : '—'],
    ['Finalized', chain.finalized ? <>block {chain.finalized.number} at <When at={chain.finalized.timestamp} /></> : '—'],
    ['Checkpoint', chain.checkpoint ? <>block {chain.checkpoint.number} <Short value={chain.checkpoint.hash} /></> : 'no pass yet'],
    ['Lag', chain.lag_blocks === null ? '—' : <span class="chain-lag">{chain.lag_blocks} blocks behind the finalized block</span>],
    ['Last reorganisation', chain.last_reorg ? <>at block {chain.last_reorg.block_number}, <When at={chain.last_reorg.detected_at} /></> : 'none'],
  ] : [];
  return (
    <section aria-labelledby="chain-title">
      <h2 id="chain-title">Quote chain follower</h2>
      <Problem failure={failure} />
      {chain === null ? <p class="muted">Manual mode: this ledger follows no quote chain.</p> : null}
      {chain?.problem ? <div class="notice error" role="alert">The chain did not answer: {chain.problem}</div> : null}
      {chain ? <dl class="facts" aria-label="Chain status">{rows.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}</dl> : null}
    </section>
  );
}

function Verify({ token }: { token: string }) {
  const [report, setReport] = useState<VerifyReport | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    const answer = await client.admin(token).verify();
    setBusy(false);
    setFailure(answer.ok ? null : answer);
    if (answer.ok) setReport(answer);
  };
  return (
    <section aria-labelledby="verify-title">
      <h2 id="verify-title">Verify</h2>
      <p class="muted">Replays every order stream against the invariants, checks the hash chains, and compares the read models with a fresh rebuild (read-only; also <code>otc-ledger verify</code>).</p>
      <button type="button" onClick={() => void run()} disabled={busy}>{busy ? 'Verifying…' : 'Run verify'}</button>
      <Problem failure={failure} />
      {report ? (
        <>
          <p role="status">Verified {report.streams} order streams, {report.events} events{report.read_models ? ' and the read models' : ''}: {report.findings.length === 0
            ? <strong class="good">no findings</strong> : <strong class="bad">{report.findings.length} finding(s)</strong>}</p>
          {report.findings.length === 0 ? null : (
            <TableBox label="Verify findings">
              <thead><tr><th scope="col">Kind</th><th scope="col">Stream</th><th scope="col">Version</th><th scope="col">Finding</th></tr></thead>
              <tbody>
                {report.findings.map((f, i) => (
                  <tr key={i}><td><code>{f.kind}</code></td><td>{f.stream ?? '—'}</td><td class="num">{f.version ?? '—'}</td><td>{f.message}</td></tr>
                ))}
              </tbody>
            </TableBox>
          )}
        </>
      ) : null}
    </section>
  );
}

export function OperatorPage() {
  const token = useStore(adminTokenStore);
  return (
    <div>
      <h1>Operator</h1>
      {token === null ? <TokenForm /> : (
        <>
          <p>Using an admin token held in memory. <button type="button" onClick={() => adminTokenStore.set(null)}>Forget token</button></p>
          <Reconcile token={token} />
          <Recovery token={token} />
          <Projections token={token} />
          <ChainFollower token={token} />
          <Verify token={token} />
        </>
      )}
    </div>
  );
}
