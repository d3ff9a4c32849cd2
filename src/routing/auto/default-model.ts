// The complexity model shipped with Switchyard: trained by scripts/auto-route/train.ts on the
// train split of data/auto-route/eval.jsonl (see docs/auto-routing-eval.md).
import type { ComplexityModel } from './model.ts';
import model from './default-model.json' with { type: 'json' };

export const DEFAULT_MODEL: ComplexityModel = model as ComplexityModel;
