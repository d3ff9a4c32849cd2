// The request target split where the route table needs it: the path is looked up, the query is
// left as written (only the parts that read it decode it). No allocation beyond the two slices.

/** `/v1/models?x=1` → `/v1/models`. */
export function pathOf(target: string): string {
  const question = target.indexOf('?');
  return question < 0 ? target : target.slice(0, question);
}

/** `/v1/models?x=1` → `x=1` ('' when there is none). */
export function queryOf(target: string): string {
  const question = target.indexOf('?');
  return question < 0 ? '' : target.slice(question + 1);
}
