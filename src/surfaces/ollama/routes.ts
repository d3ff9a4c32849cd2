// STUB — replaced by the ollama surfaces: its routes and the path prefixes whose errors use its dialect.
import type { DialectSurfaces } from '../../canonical/adapters.ts';

export const ollamaSurfaces: DialectSurfaces = { routes: [], errorPrefixes: [] };
