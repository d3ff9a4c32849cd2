// Ollama's native paths. Everything under /api/ answers errors in Ollama's shape.
import type { DialectRoute, DialectSurfaces } from '../../canonical/adapters.ts';
import { ollamaChat, ollamaEmbed, ollamaEmbeddings, ollamaGenerate } from './index.ts';
import { listTags, runningModels, showModel, version } from './local.ts';

const routes: DialectRoute[] = [
  { method: 'POST', path: '/api/chat', surface: ollamaChat },
  { method: 'POST', path: '/api/generate', surface: ollamaGenerate },
  { method: 'POST', path: '/api/embed', surface: ollamaEmbed },
  { method: 'POST', path: '/api/embeddings', surface: ollamaEmbeddings },
  { method: 'GET', path: '/api/tags', local: listTags, errors: ollamaChat },
  { method: 'POST', path: '/api/show', local: showModel, errors: ollamaChat },
  { method: 'GET', path: '/api/version', local: version, errors: ollamaChat },
  { method: 'GET', path: '/api/ps', local: runningModels, errors: ollamaChat },
];

export const ollamaSurfaces: DialectSurfaces = { routes, errorPrefixes: [{ prefix: '/api/', surface: ollamaChat }] };
