import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { installLeanAsyncResourceBind } from './async-resource-bind';

const original = Object.getOwnPropertyDescriptor(AsyncResource.prototype, 'bind')!;

describe('installLeanAsyncResourceBind', () => {
  afterAll(() => Object.defineProperty(AsyncResource.prototype, 'bind', original));

  it('leaves Node 25 and later alone', () => {
    expect(installLeanAsyncResourceBind('25.0.0')).toBe(false);
    expect(Object.getOwnPropertyDescriptor(AsyncResource.prototype, 'bind')).toEqual(original);
  });

  it('binds to the resource’s async context, with this, arguments, result and length, and no deprecated accessor', () => {
    expect(installLeanAsyncResourceBind('20.20.2')).toBe(true);
    const store = new AsyncLocalStorage<string>();
    const bound = store.run('at bind time', () => new AsyncResource('test').bind(function (this: unknown, a: number, b: number) {
      return { context: store.getStore(), self: this, sum: a + b };
    }));
    const receiver = { name: 'receiver' };
    const r = store.run('at call time', () => bound.call(receiver, 2, 3));
    expect(r).toEqual({ context: 'at bind time', self: receiver, sum: 5 });
    expect(bound.length).toBe(2);
    expect('asyncResource' in bound).toBe(false);

    const withThis = new AsyncResource('test').bind(function (this: unknown) {
      return this;
    }, receiver);
    expect(withThis.call({ other: true })).toBe(receiver);
    // The static form goes through the prototype method.
    expect(store.run('static', () => AsyncResource.bind(() => store.getStore()))()).toBe('static');
  });

  it('rejects a non-function as Node does', () => {
    installLeanAsyncResourceBind('20.20.2');
    expect(() => new AsyncResource('test').bind(3 as never)).toThrow(TypeError);
  });
});
