// What every provider encoder does with the fields a surface did not model (`passThrough`): its own
// dialect's go upstream (each encoder merges them its way); another dialect's that would change
// the answer cannot be expressed, so the request is refused with a 400 naming them (their inert
// ones are dropped, their server-side ones left to the unsupported_tools policy).
import { invalidRequest } from '../../canonical/errors.ts';
import type { PassThrough } from '../../canonical/request.ts';

/**
 * The caller's unmodelled fields when they are of the provider's `dialect` (to merge), undefined
 * when another dialect's carry nothing that changes the answer; throws the 400 otherwise.
 */
export function ownPassThrough(passThrough: PassThrough | undefined, dialect: string, provider: string): PassThrough | undefined {
  if (passThrough === undefined || passThrough.dialect === dialect) return passThrough;
  const names = Object.keys(passThrough.fields);
  if (names.length === 0) return undefined;
  const one = names.length === 1;
  const article = /^[aeiou]/i.test(dialect) ? 'an' : 'a';
  throw invalidRequest(
    `The field${one ? '' : 's'} ${names.map((name) => `'${name}'`).join(', ')} (${passThrough.dialect}) cannot be expressed for ${article} ${dialect} provider ('${provider}'); remove ${one ? 'it' : 'them'} or route to a ${passThrough.dialect} provider. See docs/translation.md.`,
    names[0],
  );
}
