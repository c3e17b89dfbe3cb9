import { AsyncResource } from 'node:async_hooks';

/**
 * Node 20 to 24 add a deprecated `asyncResource` accessor (DEP0172) to every function that
 * `AsyncResource#bind` returns, and build two `util.deprecate` wrappers for it on each call.
 * Fastify binds one callback per request body (its content-type parser) and Node's HTTP/2 client
 * one per stream (every gRPC call), so in the gateway at concurrency 64 those wrappers were 6.5%
 * of the main thread's CPU (V8 profile; `bind` 8.2% inclusive). Node 25 removed the accessor
 * (nodejs/node#58618); this installs Node 25's `bind` where the accessor is still built: the same
 * function, run in the resource's async scope, with the same `length`, without the accessor.
 * Nothing here reads `asyncResource` from a bound function (Node warns if anything does).
 */
export function installLeanAsyncResourceBind(nodeVersion = process.versions.node): boolean {
  if (Number(nodeVersion.split('.')[0]) >= 25) return false;
  Object.defineProperty(AsyncResource.prototype, 'bind', {
    configurable: true,
    writable: true,
    enumerable: false,
    // Typed loosely: AsyncResource's own declaration types the public signature.
    value: function bind(this: AsyncResource, fn: (...args: unknown[]) => unknown, thisArg?: unknown) {
      return leanBind(this, fn, thisArg);
    },
  });
  return true;
}

function leanBind(resource: AsyncResource, fn: (...args: unknown[]) => unknown, thisArg: unknown) {
  if (typeof fn !== 'function') throw new TypeError(`The "fn" argument must be of type function. Received ${typeof fn}`);
  // Passed straight to withLength, not held in a const: the bundle (esbuild keepNames) would
  // name a function held in a const with one more defineProperty per call.
  return withLength(
    thisArg === undefined
      ? function (this: unknown, ...args: unknown[]) {
          return resource.runInAsyncScope(fn, this, ...args);
        }
      : (...args: unknown[]) => resource.runInAsyncScope(fn, thisArg, ...args),
    fn.length,
  );
}

function withLength<F extends (...args: unknown[]) => unknown>(bound: F, length: number): F {
  return Object.defineProperty(bound, 'length', { configurable: true, enumerable: false, value: length, writable: false });
}
