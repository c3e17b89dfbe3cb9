import { describe, expect, it } from 'vitest';
import { ErrorCode, ServableError } from '@servable/contracts';
import { Coalescer, type Member } from './coalescer';

/** A downstream whose calls stay open until the test answers them; each call's items are recorded. */
function fakeDownstream() {
  const calls: Array<{ items: string[]; answer(): void; fail(err: unknown): void }> = [];
  const run = (members: Member<string>[]) =>
    new Promise<string[]>((resolve, reject) =>
      calls.push({ items: members.map((m) => m.item), answer: () => resolve(members.map((m) => m.item.toUpperCase())), fail: reject }),
    );
  return { calls, run };
}

const soon = Date.now() + 60_000;
const member = (item: string, rows = 1, deadline = soon): Member<string> => ({ item, rows, deadline });
const tick = () => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  it('sends a lone request at once, and merges what arrives while calls are out', async () => {
    const { calls, run } = fakeDownstream();
    const c = new Coalescer(run, { maxInFlight: 1, maxRows: 100 });
    const a = c.submit('k', member('a'));
    expect(calls.map((x) => x.items)).toEqual([['a']]);
    const b = c.submit('k', member('b'));
    const d = c.submit('k', member('d'));
    expect(calls).toHaveLength(1);
    calls[0].answer();
    expect(await a).toBe('A');
    await tick();
    expect(calls[1].items).toEqual(['b', 'd']);
    calls[1].answer();
    expect(await Promise.all([b, d])).toEqual(['B', 'D']);
  });

  it('keeps keys apart and bounds rows per call', async () => {
    const { calls, run } = fakeDownstream();
    const c = new Coalescer(run, { maxInFlight: 1, maxRows: 3 });
    void c.submit('x', member('x1'));
    void c.submit('y', member('y1'));
    void c.submit('x', member('x2', 2));
    void c.submit('x', member('x3', 2));
    expect(calls.map((x) => x.items)).toEqual([['x1'], ['y1']]);
    calls[0].answer();
    await tick();
    // x2 (2 rows) fits, x3 (2 more) would pass maxRows 3: it waits for the next call.
    expect(calls[2].items).toEqual(['x2']);
    calls[2].answer();
    await tick();
    expect(calls[3].items).toEqual(['x3']);
  });

  it('fails a queued request whose deadline passed, without sending it', async () => {
    const { calls, run } = fakeDownstream();
    const c = new Coalescer(run, { maxInFlight: 1, maxRows: 100 });
    void c.submit('k', member('a'));
    const late = c.submit('k', member('late', 1, Date.now() - 1));
    calls[0].answer();
    await expect(late).rejects.toMatchObject({ code: ErrorCode.DEADLINE_EXCEEDED });
    expect(calls).toHaveLength(1);
  });

  it('fails a merged member at its own deadline, without cutting the call short for the others', async () => {
    const { calls, run } = fakeDownstream();
    const c = new Coalescer(run, { maxInFlight: 1, maxRows: 100 });
    void c.submit('k', member('first'));
    const hasty = c.submit('k', member('hasty', 1, Date.now() + 30));
    const patient = c.submit('k', member('patient'));
    calls[0].answer();
    await tick();
    expect(calls[1].items).toEqual(['hasty', 'patient']);
    await expect(hasty).rejects.toMatchObject({ code: ErrorCode.DEADLINE_EXCEEDED });
    calls[1].answer();
    expect(await patient).toBe('PATIENT');
  });

  it('fails each hasty member of a merged call at its own deadline, the later one after the sooner', async () => {
    const { calls, run } = fakeDownstream();
    const c = new Coalescer(run, { maxInFlight: 1, maxRows: 100 });
    void c.submit('k', member('first'));
    const started = Date.now();
    // Submitted later but due sooner: the order of deadlines, not of arrival, decides.
    const later = c.submit('k', member('later', 1, started + 120));
    const sooner = c.submit('k', member('sooner', 1, started + 40));
    const patient = c.submit('k', member('patient'));
    const failedAt: Record<string, number> = {};
    const failure = (name: string, p: Promise<string>) =>
      p.catch((err: ServableError) => {
        failedAt[name] = Date.now() - started;
        return err.code;
      });
    const outcomes = [failure('later', later), failure('sooner', sooner)];
    calls[0].answer();
    await tick();
    expect(calls[1].items).toEqual(['later', 'sooner', 'patient']);
    expect(await Promise.all(outcomes)).toEqual([ErrorCode.DEADLINE_EXCEEDED, ErrorCode.DEADLINE_EXCEEDED]);
    expect(failedAt.sooner).toBeLessThan(failedAt.later);
    expect(failedAt.later).toBeGreaterThanOrEqual(110);
    calls[1].answer();
    expect(await patient).toBe('PATIENT');
  });

  it('sends each member alone when a merged call is refused as INVALID_ARGUMENT, so one bad input fails alone', async () => {
    const calls: string[][] = [];
    const c = new Coalescer<string, string>(
      async (members) => {
        calls.push(members.map((m) => m.item));
        if (members.some((m) => m.item === 'bad')) throw ServableError.invalid('texts[1] is too long');
        return members.map((m) => m.item);
      },
      { maxInFlight: 1, maxRows: 100 },
    );
    const first = c.submit('k', member('first'));
    const good = c.submit('k', member('good'));
    const bad = c.submit('k', member('bad'));
    // Settled together: first's answer waits a turn (its successor left first), by when bad has failed.
    const [f, g, b] = await Promise.allSettled([first, good, bad]);
    expect([f, g]).toEqual([
      { status: 'fulfilled', value: 'first' },
      { status: 'fulfilled', value: 'good' },
    ]);
    expect(b).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.INVALID_ARGUMENT } });
    expect(calls).toEqual([['first'], ['good', 'bad'], ['good'], ['bad']]);
  });

  it('reads a bound given as a function whenever a call could leave, so it can follow the replicas', async () => {
    const { calls, run } = fakeDownstream();
    let replicas = 1;
    const c = new Coalescer(run, { maxInFlight: (key) => (key === 'k' ? replicas : 0), maxRows: 100 });
    void c.submit('k', member('a'));
    void c.submit('k', member('b'));
    expect(calls.map((x) => x.items)).toEqual([['a']]);
    // A second replica: the next request leaves at once, beside the call already out.
    replicas = 2;
    void c.submit('k', member('c'));
    expect(calls.map((x) => x.items)).toEqual([['a'], ['b', 'c']]);
    // Back to one: two answers free two slots, but only one call leaves for what queued meanwhile.
    replicas = 1;
    void c.submit('k', member('d'));
    void c.submit('k', member('e'));
    calls[0].answer();
    await tick();
    expect(calls).toHaveLength(2);
    calls[1].answer();
    await tick();
    expect(calls.map((x) => x.items)).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
  });

  it('fails every member of a call that fails otherwise', async () => {
    const { calls, run } = fakeDownstream();
    const c = new Coalescer(run, { maxInFlight: 1, maxRows: 100 });
    const a = c.submit('k', member('a'));
    calls[0].fail(new ServableError(ErrorCode.UNAVAILABLE, 'down'));
    await expect(a).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
  });

  it('starts the next merged call before the answered members run on, and answers a lone call at once', async () => {
    const log: string[] = [];
    const calls: Array<() => void> = [];
    // Like grpc-js, the downstream puts a call on the wire a promise step after it was made.
    const run = async (members: Member<string>[]) => {
      await Promise.resolve();
      log.push(`sent ${members.map((m) => m.item).join(',')}`);
      return new Promise<string[]>((resolve) => calls.push(() => resolve(members.map((m) => m.item))));
    };
    const c = new Coalescer(run, { maxInFlight: 1, maxRows: 100 });
    const answered = (item: string) => c.submit('k', member(item)).then(() => log.push(`answered ${item}`));
    const a = answered('a');
    await tick();
    const rest = [answered('b'), answered('d')];
    calls[0]();
    await a;
    // b and d were queued behind a: their call was on its way before a's request went on.
    expect(log).toEqual(['sent a', 'sent b,d', 'answered a']);

    calls[1]();
    await Promise.all(rest);
    log.length = 0;
    // Nothing queued behind it: the answer is not held for a turn of the event loop.
    const lone = answered('e');
    await tick();
    setImmediate(() => log.push('a turn later'));
    calls[2]();
    await lone;
    await tick();
    expect(log).toEqual(['sent e', 'answered e', 'a turn later']);
  });

  it('sends one early call per slot once enough rows wait, never a small one, and no third', async () => {
    const { calls, run } = fakeDownstream();
    const c = new Coalescer(run, { maxInFlight: 1, maxRows: 100, earlyCallRows: 4 });
    const first = c.submit('k', member('a'));
    // Three rows wait behind the call that is out: too few for an early call.
    const waiting = [c.submit('k', member('b')), c.submit('k', member('d', 2))];
    expect(calls).toHaveLength(1);
    // The fourth row: they leave together before the first call has answered.
    waiting.push(c.submit('k', member('e')));
    expect(calls.map((x) => x.items)).toEqual([['a'], ['b', 'd', 'e']]);
    // Two calls out (the slot and its early call): more rows wait, however many.
    const later = ['f', 'g', 'h', 'i', 'j'].map((item) => c.submit('k', member(item)));
    expect(calls).toHaveLength(2);
    // An answer frees a slot: what waits leaves at once, and each request gets its own answer.
    calls[0].answer();
    expect(await first).toBe('A');
    await tick();
    expect(calls[2].items).toEqual(['f', 'g', 'h', 'i', 'j']);
    calls[1].answer();
    calls[2].answer();
    expect(await Promise.all([...waiting, ...later])).toEqual(['B', 'D', 'E', 'F', 'G', 'H', 'I', 'J']);
  });

  it('counts only the rows still waiting toward an early call: expired ones and those already sent do not', async () => {
    const { calls, run } = fakeDownstream();
    const c = new Coalescer(run, { maxInFlight: 1, maxRows: 100, earlyCallRows: 3 });
    void c.submit('k', member('a'));
    const late = c.submit('k', member('late', 2, Date.now() + 5));
    await new Promise((r) => setTimeout(r, 10));
    // The answer drops the expired member (2 rows) and sends b alone; 1 row counts now, not 3.
    void c.submit('k', member('b'));
    calls[0].answer();
    await expect(late).rejects.toMatchObject({ code: ErrorCode.DEADLINE_EXCEEDED });
    await tick();
    expect(calls.map((x) => x.items)).toEqual([['a'], ['b']]);
    void c.submit('k', member('d'));
    void c.submit('k', member('e'));
    expect(calls).toHaveLength(2);
    void c.submit('k', member('f'));
    expect(calls.map((x) => x.items)).toEqual([['a'], ['b'], ['d', 'e', 'f']]);
  });

  it('sends nothing early without earlyCallRows', () => {
    const { calls, run } = fakeDownstream();
    const c = new Coalescer(run, { maxInFlight: 1, maxRows: 100 });
    for (const item of 'abcdefghij') void c.submit('k', member(item, 10));
    expect(calls).toHaveLength(1);
  });
});
