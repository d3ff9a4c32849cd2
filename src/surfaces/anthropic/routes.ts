// STUB — replaced by the anthropic surfaces: its routes and the path prefixes whose errors use its dialect.
import type { DialectSurfaces } from '../../canonical/adapters.ts';

export const anthropicSurfaces: DialectSurfaces = { routes: [], errorPrefixes: [] };
