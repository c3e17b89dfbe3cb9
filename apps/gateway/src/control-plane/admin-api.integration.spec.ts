/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the API under test */
import { uploadOf } from '@servable/persistence/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../gateway-server';
import { startTestGateway, type TestGateway } from '../testing/test-gateway';

process.env['LOG_LEVEL'] ??= 'warn';

const ADMIN_KEY = 'svb_admin_api_admin_key_0123456789';
/** Above int32, the type of every id and version column. */
const HUGE = 99_999_999_999;

describe('admin API: what it refuses, and with which status (fake data plane)', () => {
  let testGateway: TestGateway;
  let gateway: RunningGateway;
  let url: string;

  const call = async (method: string, path: string, body?: unknown, key = ADMIN_KEY) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body instanceof FormData || body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body instanceof FormData ? body : body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as any) : undefined };
  };

  beforeAll(async () => {
    testGateway = await startTestGateway({ SERVABLE_ADMIN_KEY: ADMIN_KEY });
    ({ gateway, url } = testGateway);
    expect((await call('PUT', '/admin/api/models/spam/labels', { labels: { stable: 1 } })).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await testGateway?.close();
  });

  it('answers a number above int32 with 400 where it is a value, and 404 where it is an id in the path, never 500', async () => {
    const invalid: Array<[string, string, unknown, RegExp]> = [
      ['PUT', '/admin/api/models/spam/rollout', { stable: HUGE }, /^stable must be a version number from 1 to 2147483647$/],
      ['PUT', '/admin/api/models/spam/rollout', { canary: 2, canaryWeight: 10, cohortRules: [{ header: 'x-cohort', value: 'beta', version: HUGE }] }, /cohortRules\[0\]\.version must be a version number from 1 to 2147483647/],
      ['PUT', '/admin/api/models/spam/labels', { labels: { stable: HUGE } }, /^labels\.stable must be a version number from 1 to 2147483647, or null$/],
      ['POST', '/admin/api/models/spam/canary-runs', { canary: HUGE, steps: [100], stepSeconds: 60, gates: { maxErrorRate: 0.1, maxP99Ratio: 2, minAgreement: 0.5, minRequests: 1 } }, /canary must be a version number/],
      ['GET', `/admin/api/audit?beforeId=${HUGE}`, undefined, /^beforeId must be a whole number from 1 to 2147483647, got "99999999999"$/],
      ['GET', `/admin/api/metrics?version=${HUGE}`, undefined, /^version must be a whole number from 1 to 2147483647/],
      ['GET', '/admin/api/audit?from=99999999999999999', undefined, /^from must be ISO 8601 or epoch milliseconds/],
    ];
    for (const [method, path, body, message] of invalid) {
      const res = await call(method, path, body);
      expect({ path, status: res.status, code: res.body?.code }, JSON.stringify(res.body)).toEqual({ path, status: 400, code: 'INVALID_ARGUMENT' });
      expect(res.body.error).toMatch(message);
    }
    const missing: Array<[string, string, unknown, string]> = [
      ['PUT', `/admin/api/models/spam/versions/${HUGE}/pin`, { pinned: true }, `model "spam" has no version ${HUGE}`],
      ['GET', `/admin/api/models/spam/canary-runs/${HUGE}`, undefined, `model "spam" has no canary run ${HUGE}`],
      ['POST', `/admin/api/models/spam/canary-runs/${HUGE}/abort`, undefined, `model "spam" has no canary run ${HUGE}`],
      ['DELETE', `/admin/api/api-keys/${HUGE}`, undefined, `API key ${HUGE} does not exist`],
    ];
    for (const [method, path, body, error] of missing) {
      const res = await call(method, path, body);
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 404, body: { code: 'NOT_FOUND', error } });
    }
    // The largest int32 is still a number like any other: an unknown id, not a refused one.
    expect((await call('GET', '/admin/api/models/spam/canary-runs/2147483647')).status).toBe(404);
    expect((await call('GET', '/admin/api/audit?beforeId=2147483647')).status).toBe(200);
  });

  it('refuses to move stable or canary while a canary run is RUNNING (409), and leaves other labels editable', async () => {
    const gates = { maxErrorRate: 0.1, maxP99Ratio: 2, minAgreement: 0.5, minRequests: 1 };
    const run = await call('POST', '/admin/api/models/spam/canary-runs', { canary: 2, steps: [10, 100], stepSeconds: 3600, gates });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    try {
      const moved = await call('PUT', '/admin/api/models/spam/labels', { labels: { stable: 2 } });
      expect(moved.status).toBe(409);
      expect(moved.body).toEqual({ code: 'FAILED_PRECONDITION', error: `canary run ${run.body.id} drives the rollout of "spam"; abort it (POST .../canary-runs/${run.body.id}/abort) first` });
      expect((await call('PUT', '/admin/api/models/spam/labels', { labels: { canary: 2 } })).status).toBe(409);
      const other = await call('PUT', '/admin/api/models/spam/labels', { labels: { beta: 2 } });
      expect(other.status).toBe(200);
      expect(other.body.labels).toEqual({ beta: 2, stable: 1 });
    } finally {
      expect((await call('POST', `/admin/api/models/spam/canary-runs/${run.body.id}/abort`)).status).toBe(200);
      await call('PUT', '/admin/api/models/spam/labels', { labels: { beta: null } });
    }
    // Once the run is over, stable moves again.
    expect((await call('PUT', '/admin/api/models/spam/labels', { labels: { stable: 2 } })).body.labels).toEqual({ stable: 2 });
    expect((await call('PUT', '/admin/api/models/spam/labels', { labels: { stable: 1 } })).status).toBe(200);
  });

  it('answers two uploads of the same version at once with one 201 and one 409, never a 500', async () => {
    const { files, tokenizer } = uploadOf(gateway.controlPlane.repositoryRoot, 3);
    const form = () => {
      const f = new FormData();
      for (const file of files) f.append('files', new Blob([file.bytes]), file.name);
      f.append('tokenizer', new Blob([tokenizer]), 'tokenizer.json');
      return f;
    };
    const answers = await Promise.all([0, 1].map(() => call('POST', '/admin/api/models/spam/versions', form())));
    expect(answers.map((a) => a.status).sort(), JSON.stringify(answers.map((a) => a.body))).toEqual([201, 409]);
    expect(answers.find((a) => a.status === 409)?.body).toEqual({
      code: 'FAILED_PRECONDITION',
      error: 'spam/3 is already registered; versions are immutable, upload a new version number',
    });
  }, 60_000);

  it('creates keys only from a known body with a real name, and never revokes the last admin key', async () => {
    const unknownField = await call('POST', '/admin/api/api-keys', { name: 'ci', role: 'client', expiresAt: '2030-01-01T00:00:00Z' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error).toMatch(/expiresAt/);
    const blank = await call('POST', '/admin/api/api-keys', { name: '   ', role: 'client' });
    expect(blank.status).toBe(400);
    expect(blank.body.error).toBe('a key needs a name of 1 to 128 characters, not only spaces');
    expect((await call('GET', '/admin/api/api-keys')).body.map((k: { name: string }) => k.name)).toEqual(['SERVABLE_ADMIN_KEY']);

    const [admin] = (await call('GET', '/admin/api/api-keys')).body as Array<{ id: number }>;
    const last = await call('DELETE', `/admin/api/api-keys/${admin.id}`);
    expect(last.status).toBe(409);
    expect(last.body).toEqual({
      code: 'FAILED_PRECONDITION',
      error: `API key ${admin.id} is the last active admin key; create another admin key before revoking it, or nobody could manage keys any more`,
    });
    expect((await call('GET', '/admin/api/session')).body).toMatchObject({ role: 'admin' });
    // With a second admin key, the first can go, even by its own hand.
    const second = await call('POST', '/admin/api/api-keys', { name: 'second admin', role: 'admin' });
    expect(second.status).toBe(201);
    expect((await call('DELETE', `/admin/api/api-keys/${admin.id}`)).status).toBe(200);
    expect((await call('GET', '/admin/api/session')).status).toBe(401);
    expect((await call('GET', '/admin/api/session', undefined, second.body.key)).body).toMatchObject({ role: 'admin' });
  });
});
