// The decode phase's checks on what the surface read from the body, before the name keys any
// state or the body goes upstream (issue #12): the model name is bounded, and a routing field
// written twice is refused.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import { modelNameProblem } from '../util/model-name.ts';
import type { RequestHandler } from './phases.ts';

/** Every surface's name (body or path) is checked here, once. */
export const boundedModelName: RequestHandler = (context) => {
  const problem = modelNameProblem(context.summary!.model);
  if (problem === undefined) return undefined;
  return new GatewayError(ErrorCode.invalidRequest, `Invalid 'model': the name ${problem}.`, { status: 400, origin: 'downstream', errorClass: 'client-error', param: 'model' });
};

/**
 * The model written twice is read as its last copy here and maybe as its first by the provider
 * (the body goes upstream as sent): refused — written literally or with escapes, as the skim
 * decodes every top-level key. The stream flag is not checked so: the answer's framing is read
 * from the provider's content type, never from the body.
 */
export const singleModelField: RequestHandler = (context) => {
  // a form has no JSON bytes: its reader refused a second `model` field (pipeline/request-body.ts)
  if (context.body === undefined || context.summary!.modelInPath === true) return undefined;
  if (context.payload!.count('model') < 2) return undefined;
  return new GatewayError(ErrorCode.invalidRequest, "Invalid body: 'model' appears more than once at the top level. Send it once: JSON parsers disagree on which copy counts.", {
    status: 400, origin: 'downstream', errorClass: 'client-error', param: 'model',
  });
};
