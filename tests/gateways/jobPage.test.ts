import { describe, expect, it } from 'vitest';
import { escrowJobTitle } from '../../src/gateways/node.js';
import { createRustchainGateway } from '../../src/gateways/rustchain.js';
import { readJobPageFor } from '../../src/gateways/rustchainResponses.js';
import type { NodeTransport } from '../../src/gateways/transport.js';

/**
 * A find-by-title reads each page of GET /agent/jobs for one title (session 7): the page must be a
 * job list, only the title's jobs are validated in full, and one of those that does not validate
 * refuses the page.
 */

const OURS = escrowJobTitle('otc_00000000000000a1', 'maker');
const POSTER = `RTC${'a'.repeat(40)}`;

const job = (over: Record<string, unknown> = {}) => ({
  job_id: 'job_1', title: OURS, poster_wallet: POSTER, status: 'open', reward_rtc: 2.5, expires_at: 1_900_000_000, worker_wallet: null, ...over,
});

describe('readJobPageFor', () => {
  const read = readJobPageFor(OURS);

  it('reads the title\'s jobs in page order and counts every job on the page', () => {
    const page = read({ jobs: [job({ job_id: 'job_2', title: 'something else' }), job(), job({ job_id: 'job_3', status: 'claimed', worker_wallet: 'w' })], total: 7 });
    expect(page?.count).toBe(3);
    expect(page?.total).toBe(7);
    expect(page?.matches.map((m) => [m.jobId, m.status, m.rewardMicroRtc])).toEqual([['job_1', 'open', 2_500_000n], ['job_3', 'claimed', 2_500_000n]]);
  });

  it('does not validate jobs of other titles: a foreign job the port could not read leaves the page readable', () => {
    const foreign = { title: 'not ours', status: 'frozen', reward_rtc: 'lots' };
    const page = read({ jobs: [foreign, job()] });
    expect(page?.count).toBe(2);
    expect(page?.total).toBeNull();
    expect(page?.matches.map((m) => m.jobId)).toEqual(['job_1']);
  });

  it.each([
    ['an unknown status', { status: 'frozen' }],
    ['no job id', { job_id: '' }],
    ['a reward it cannot read', { reward_rtc: 'lots' }],
    ['an expiry that is neither a number nor a string', { expires_at: { at: 1 } }],
  ])('refuses the page when one of the title\'s jobs has %s', (_what, over) => {
    expect(read({ jobs: [job({ job_id: 'job_9' }), job(over)] })).toBeNull();
  });

  it.each([
    ['not an object', 'jobs'],
    ['no jobs array', { jobs: { 0: job() } }],
    ['a job that is not an object', { jobs: [job(), 7] }],
    ['a job without a string title', { jobs: [job(), { job_id: 'job_2', title: 12 }] }],
    ['a total that is not an integer', { jobs: [job()], total: 1.5 }],
  ])('refuses an answer that is not a job list: %s', (_what, json) => {
    expect(read(json)).toBeNull();
  });
});

describe('findJobByTitle over pages with foreign jobs', () => {
  it('finds its job on a page whose other jobs it would not read, and a malformed one of its own is an unknown outcome', async () => {
    const pages: unknown[] = [];
    const transport: NodeTransport = async () => ({ status: 200, body: JSON.stringify(pages.shift() ?? { jobs: [] }) });
    const gateway = createRustchainGateway({ baseUrl: 'http://127.0.0.1:1', adminKey: 'k', timeoutMs: 300, transport });
    pages.push({ jobs: [{ title: 'someone else', status: 'frozen' }, job()] });
    const found = await gateway.findJobByTitle(OURS, () => true, ['open']);
    expect(found).toMatchObject({ kind: 'ok', value: { jobId: 'job_1', rewardMicroRtc: 2_500_000n } });
    pages.push({ jobs: [job({ status: 'frozen' })] });
    expect((await gateway.findJobByTitle(OURS, () => true, ['open'])).kind).toBe('unknown');
  });
});
