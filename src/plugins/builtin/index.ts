// The built-in plugins, by the name a config's `use:` gives them (a `use:` without a slash or a
// file extension names one of these).
import type { PluginDefinition } from '../api.ts';
import { contentGuard } from './content-guard.ts';
import { payloadRules } from './payload-rules.ts';
import { redact } from './redact.ts';
import { webhook } from './webhook.ts';

export const builtinPlugins: Readonly<Record<string, PluginDefinition>> = Object.freeze({
  'payload-rules': payloadRules as PluginDefinition,
  redact: redact as PluginDefinition,
  'content-guard': contentGuard as PluginDefinition,
  webhook: webhook as PluginDefinition,
});
