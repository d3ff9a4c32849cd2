// The decode phase's checks on what the surface read from the body, before the name keys any
// state or the body goes upstream (issue #12): the model name is bounded, and a routing field
// written twice is refused.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import { findTopLevelString } from '../util/json-splice.ts';
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
 * (the body goes upstream as sent): refused. The stream flag is not checked so: the answer's
 * framing is read from the provider's content type, never from the body. Where the member stands
 * is kept (`context.modelMember`) so that a renamed model is spliced into the bytes as sent.
 */
export const singleModelField: RequestHandler = (context) => {
  const summary = context.summary!;
  // a form has no JSON bytes: its reader refused a second `model` field (pipeline/request-body.ts)
  if (context.body === undefined) return undefined;
  const modelField = summary.modelInPath === true ? undefined : (context.parsed as Record<string, unknown>).model;
  if (typeof modelField !== 'string') return undefined;
  const member = findTopLevelString(context.body!, context.text, 'model', modelField);
  if (member.duplicate) {
    return new GatewayError(ErrorCode.invalidRequest, "Invalid body: 'model' appears more than once at the top level. Send it once: JSON parsers disagree on which copy counts.", {
      status: 400, origin: 'downstream', errorClass: 'client-error', param: 'model',
    });
  }
  context.modelMember = member;
  return undefined;
};
