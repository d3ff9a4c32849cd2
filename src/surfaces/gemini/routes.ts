// STUB — replaced by the gemini surfaces: its routes and the path prefixes whose errors use its dialect.
import type { DialectSurfaces } from '../../canonical/adapters.ts';

export const geminiSurfaces: DialectSurfaces = { routes: [], errorPrefixes: [] };
