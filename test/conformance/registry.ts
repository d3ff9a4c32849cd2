// Every file in ./dialects may export `client` (a ClientDialect) and/or `upstream` (an
// UpstreamDialect); the matrix picks them all up, so adding a dialect touches no shared file.
import { readdirSync } from 'node:fs';
import type { Skip } from './skips.ts';
import type { ClientDialect, UpstreamDialect } from './types.ts';

export async function loadDialects(): Promise<{ clients: ClientDialect[]; upstreams: UpstreamDialect[]; skips: Skip[] }> {
  const directory = new URL('./dialects/', import.meta.url);
  const clients: ClientDialect[] = [];
  const upstreams: UpstreamDialect[] = [];
  const skips: Skip[] = [];
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.ts')).sort()) {
    const module = (await import(new URL(file, directory).href)) as { client?: ClientDialect; upstream?: UpstreamDialect; skips?: Skip[] };
    if (module.client !== undefined) clients.push(module.client);
    if (module.skips !== undefined) skips.push(...module.skips);
    if (module.upstream !== undefined) upstreams.push(module.upstream);
  }
  return { clients, upstreams, skips };
}
