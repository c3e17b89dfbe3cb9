// Helpers the generated service code relies on.

/** A message as a sender may build it: every field may be left out (proto3 defaults apply). */
export type DeepPartial<T> = T extends Uint8Array
  ? T
  : T extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> | null }
      : T;

type MethodDecorator = (service: string, method: string) => (target: object, key: string | symbol, descriptor: PropertyDescriptor) => void;

/** Applies a Nest gRPC method decorator to `prototype[key]` if the class defines it. */
export function decorate(constructor: Function, decorator: MethodDecorator, service: string, rpc: string, key: string): void {
  const descriptor = Reflect.getOwnPropertyDescriptor(constructor.prototype, key);
  if (!descriptor) throw new Error(`${constructor.name} does not implement ${service}.${rpc} (method ${key})`);
  decorator(service, rpc)(constructor.prototype, key, descriptor);
}
