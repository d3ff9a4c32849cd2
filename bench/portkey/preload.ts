// Preloaded (node --import) into Portkey's gateway when benchmarking it; never part of Switchyard.
// 1. Portkey 1.15 on Node writes to the headers of an upstream fetch Response, whose guard is
//    "immutable", so every streaming request fails with `TypeError: immutable`. Ignore exactly
//    that error from Headers.prototype.append/set/delete; everything else still throws.
// 2. Its server listens on every interface (no host option); the benchmark binds loopback only.
import net from 'node:net';

type Method = (this: unknown, ...args: unknown[]) => unknown;
const headersPrototype = Headers.prototype as unknown as Record<'append' | 'set' | 'delete', Method>;
for (const name of ['append', 'set', 'delete'] as const) {
  const original = headersPrototype[name];
  headersPrototype[name] = function (this: unknown, ...args: unknown[]) {
    try {
      return original.apply(this, args);
    } catch (error) {
      if (error instanceof TypeError && error.message === 'immutable') return undefined;
      throw error;
    }
  };
}

const serverPrototype = net.Server.prototype as unknown as { listen: Method };
const listen = serverPrototype.listen;
serverPrototype.listen = function (this: unknown, ...args: unknown[]) {
  // @hono/node-server calls listen(port, hostname | undefined, callback).
  if (typeof args[0] === 'number') {
    if (args[1] === undefined) args[1] = '127.0.0.1';
    else if (typeof args[1] === 'function') args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
