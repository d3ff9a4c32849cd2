// Config: the file as written (GET /v0/management/config/file: comments and ${VAR} references
// kept, literal credentials shown as "[redacted]", which PUT reads as "keep the file's value") in
// an editor with line numbers; check it (…/validate) with each problem marked at its line; review
// the diff against the file; apply (PUT: written and hot-reloaded, streams in flight go on); read
// the file again from disk (…/reload). Below, the effective config with every secret masked.
import { html, useEffect, useRef, useState } from '../vendor/htm-preact.js';
import { api, ApiError, csrf } from '../lib/api.js';
import { diffLines, hunks } from '../lib/line-diff.js';

/**
 * A YAML body to one of the config endpoints (the API client sends JSON only); the session's CSRF
 * token as on every change.
 * @param {string} path @param {string} method @param {string} text
 */
async function sendYaml(path, method, text) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', 'content-type': 'application/yaml' };
  if (csrf() !== '') headers['x-switchyard-csrf'] = csrf();
  const response = await fetch(path, { method, headers, credentials: 'same-origin', body: text });
  const data = await response.json().catch(() => null);
  // a refused candidate is an answer with problems, not a failure of the call
  if (response.ok || (response.status === 400 && Array.isArray(data?.problems))) return data;
  throw new ApiError(response.status, data?.error?.message ?? `${response.status} ${response.statusText}`, data);
}

/** @typedef {{ path: string, line?: number, column?: number, message: string }} Problem */

/**
 * A textarea with a gutter of line numbers, the lines with a problem marked in it.
 * @param {{ text: string, onInput: (text: string) => void, problems: Problem[], editorRef: any }} props
 */
function Editor({ text, onInput, problems, editorRef }) {
  const gutter = useRef(/** @type {HTMLDivElement | null} */ (null));
  const count = text.split('\n').length;
  /** @type {Map<number, string>} */
  const marked = new Map();
  for (const problem of problems) if (problem.line !== undefined) marked.set(problem.line, `${marked.has(problem.line) ? `${marked.get(problem.line)}; ` : ''}${problem.message}`);
  const scrolled = (/** @type {any} */ event) => {
    if (gutter.current !== null) gutter.current.scrollTop = event.currentTarget.scrollTop;
  };
  return html`
    <div class="editor">
      <div class="gutter" ref=${gutter} aria-hidden="true">
        ${Array.from({ length: count }, (_unused, index) => html`<div class=${marked.has(index + 1) ? 'bad' : undefined} title=${marked.get(index + 1)}>${index + 1}</div>`)}
      </div>
      <textarea id="config-text" ref=${editorRef} spellcheck="false" wrap="off" autocapitalize="off" autocomplete="off"
        aria-describedby="config-help" value=${text} onInput=${(/** @type {any} */ event) => onInput(event.currentTarget.value)} onScroll=${scrolled}></textarea>
    </div>`;
}

/** @param {{ before: string, after: string }} props */
function Diff({ before, after }) {
  const shown = hunks(diffLines(before, after));
  if (shown.length === 0) return html`<p class="muted" data-testid="config-diff">No changes: the editor holds the file as it is.</p>`;
  return html`
    <div class="diff" data-testid="config-diff" role="table" aria-label="Changes to the config file">
      ${shown.map((line) => line === null
        ? html`<div class="gap" role="row"><span role="cell">…</span></div>`
        : html`<div class=${line.kind === '+' ? 'added' : line.kind === '-' ? 'removed' : 'kept'} role="row">
            <span class="num" role="cell">${line.before ?? ''}</span><span class="num" role="cell">${line.after ?? ''}</span>
            <span class="mark" role="cell" aria-label=${line.kind === '+' ? 'added' : line.kind === '-' ? 'removed' : 'unchanged'}>${line.kind}</span><span class="text" role="cell">${line.text}</span></div>`)}
    </div>`;
}

export function Config() {
  const [file, setFile] = useState(/** @type {any} */ (null));
  const [text, setText] = useState('');
  const [effective, setEffective] = useState(/** @type {any} */ (null));
  const [loadError, setLoadError] = useState(/** @type {{ status: number, message: string } | null} */ (null));
  const [problems, setProblems] = useState(/** @type {Problem[] | null} */ (null));
  const [warnings, setWarnings] = useState(/** @type {any[]} */ ([]));
  const [reviewing, setReviewing] = useState(false);
  const [busy, setBusy] = useState('');
  const [result, setResult] = useState(/** @type {{ text: string, bad: boolean, detail?: string[] } | null} */ (null));
  const editor = useRef(/** @type {HTMLTextAreaElement | null} */ (null));

  const loadEffective = () => api('/v0/management/config').then(setEffective, (failure) => setLoadError({ status: failure.status, message: failure.message }));
  /** @param {boolean} replaceText */
  const loadFile = (replaceText) => api('/v0/management/config/file').then((answer) => {
    setFile(answer);
    if (replaceText) setText(answer.text);
  }, (failure) => setLoadError({ status: failure.status, message: failure.message }));
  useEffect(() => {
    // zero-config (no path) has no file to ask for
    api('/v0/management/config').then((answer) => {
      setEffective(answer);
      if (answer.path === null) setLoadError({ status: 409, message: 'The gateway runs on zero-config (no config file was found): there is no file to edit.' });
      else loadFile(true);
    }, (failure) => setLoadError({ status: failure.status, message: failure.message }));
  }, []);

  const edited = file !== null && text !== file.text;
  /** @param {string} value */
  const onInput = (value) => {
    setText(value);
    setReviewing(false);
    setProblems(null);
  };
  /** @returns {Promise<boolean>} whether the text is valid */
  const validate = () => {
    setBusy('Checking…');
    setResult(null);
    return sendYaml('/v0/management/config/validate', 'POST', text).then((answer) => {
      setProblems(answer.problems);
      setWarnings(answer.warnings ?? []);
      return answer.valid === true;
    }, (failure) => {
      setResult({ text: failure.message, bad: true });
      return false;
    }).finally(() => setBusy(''));
  };
  const review = () => validate().then((valid) => setReviewing(valid));
  const apply = () => {
    setBusy('Applying…');
    sendYaml('/v0/management/config', 'PUT', text).then((answer) => {
      if (answer.valid === false) {
        setProblems(answer.problems);
        setReviewing(false);
        setResult({ text: answer.error?.message ?? 'The gateway refused the change; the file is as it was.', bad: true });
        return;
      }
      setReviewing(false);
      setProblems(null);
      setResult({
        text: `Applied: version ${answer.version}. The new config serves from now on; requests in flight finish as they began.`,
        bad: false,
        detail: [answer.changes ? `Changes: ${answer.changes}` : '', ...(answer.restart_needed ?? []).map((/** @type {string} */ setting) => `Waits for a restart: ${setting}`)].filter((line) => line !== ''),
      });
      loadFile(true);
      loadEffective();
    }, (failure) => setResult({ text: failure.message, bad: true })).finally(() => setBusy(''));
  };
  const reload = () => {
    setBusy('Reloading…');
    sendYaml('/v0/management/config/reload', 'POST', '').then((answer) => {
      if (answer.valid === false) {
        setProblems(answer.problems);
        setResult({ text: `The file on disk has problems; the running config stays. ${answer.error?.message ?? ''}`, bad: true });
        return;
      }
      setResult({ text: `Read the file again: version ${answer.version}.`, bad: false, detail: answer.changes ? [`Changes: ${answer.changes}`] : [] });
      setProblems(null);
      setReviewing(false);
      loadFile(true);
      loadEffective();
    }, (failure) => setResult({ text: failure.message, bad: true })).finally(() => setBusy(''));
  };
  /** Puts the cursor on a problem's line. @param {Problem} problem */
  const show = (problem) => {
    const area = editor.current;
    if (area === null || problem.line === undefined) return;
    const lines = text.split('\n');
    let start = 0;
    for (let index = 0; index < problem.line - 1 && index < lines.length; index++) start += (lines[index]?.length ?? 0) + 1;
    const end = start + (lines[problem.line - 1]?.length ?? 0);
    area.focus();
    area.setSelectionRange(start + Math.max(0, (problem.column ?? 1) - 1), end);
    const lineHeight = area.scrollHeight / Math.max(lines.length, 1);
    area.scrollTop = Math.max(0, (problem.line - 3) * lineHeight);
  };

  const effectivePanel = effective !== null ? html`
    <details class="panel" data-testid="config-effective">
      <summary><h2 class="inline">Effective config</h2> <span class="muted">version ${effective.version}, defaults filled in, secrets masked</span></summary>
      <pre class="mono">${JSON.stringify(effective.config, null, 2)}</pre>
    </details>` : null;

  if (loadError !== null && loadError.status === 409) {
    return html`
      <section class="panel" data-testid="config-zero">
        <h2>No config file to edit</h2>
        <p>${loadError.message}</p>
        <p class="muted">Zero-config finds providers from environment variables and local servers; it has no file, so this page can show the config it runs but not change it.
          Write a <code>switchyard.yaml</code> (see <code>switchyard.example.yaml</code>) and start the gateway with <code>--config</code>.</p>
      </section>
      ${effectivePanel}`;
  }
  if (loadError !== null) return html`<p role="alert" class="error">${loadError.message}</p>`;
  if (file === null) return html`<p class="muted">Loading…</p>`;
  const found = problems ?? [];
  return html`
    <section class="panel" aria-labelledby="config-file-title">
      <div class="panel-head">
        <h2 id="config-file-title">The file <span class="mono muted">${file.path}</span></h2>
        <span class="muted small">version ${file.version}${edited ? ' · edited' : ''}</span>
      </div>
      <p id="config-help" class="muted small">Comments and <code>\${VAR}</code> references are kept. A credential written in the file shows as <code>"[redacted]"</code>: leave it so and the file keeps its value.</p>
      <label for="config-text" class="visually-hidden">Config file text</label>
      <${Editor} text=${text} onInput=${onInput} problems=${found} editorRef=${editor} />
      <div class="row toolbar">
        <button type="button" class="quiet" disabled=${busy !== ''} onClick=${validate}>Check</button>
        <button type="button" disabled=${busy !== '' || !edited} onClick=${review}>Review changes</button>
        <button type="button" class="quiet" disabled=${busy !== '' || !edited} onClick=${() => onInput(file.text)}>Discard edits</button>
        <button type="button" class="quiet" disabled=${busy !== ''} onClick=${reload} title="Read the file from disk again, as SIGHUP does">Reload from disk</button>
        ${busy !== '' ? html`<span role="status" class="muted">${busy}</span>` : null}
      </div>
      ${problems !== null ? html`
        <div aria-live="polite" data-testid="config-problems">
          ${found.length === 0 ? html`<p class="ok">No problems.</p>` : html`
            <p class="error">${found.length === 1 ? 'One problem' : `${found.length} problems`}: nothing was changed.</p>
            <ul class="problems">
              ${found.map((problem) => html`<li>
                <button type="button" class="link" onClick=${() => show(problem)}>${problem.line !== undefined ? `Line ${problem.line}${problem.column !== undefined ? `, column ${problem.column}` : ''}` : 'File'}</button>
                <span class="mono muted">${problem.path}</span> ${problem.message}</li>`)}
            </ul>`}
          ${warnings.length > 0 ? html`<ul class="warnings">${warnings.map((warning) => html`<li class="warn">${typeof warning === 'string' ? warning : warning.message ?? JSON.stringify(warning)}</li>`)}</ul>` : null}
        </div>` : null}
      ${result !== null ? html`
        <div role=${result.bad ? 'alert' : 'status'} class=${result.bad ? 'error' : 'ok'} data-testid="config-result">
          <p>${result.text}</p>
          ${result.detail?.length ? html`<ul>${result.detail.map((line) => html`<li>${line}</li>`)}</ul>` : null}
        </div>` : null}
    </section>
    ${reviewing ? html`
      <section class="panel" aria-labelledby="config-review-title">
        <div class="panel-head">
          <h2 id="config-review-title">Changes to apply</h2>
          <div class="row">
            <button type="button" disabled=${busy !== ''} onClick=${apply}>Apply</button>
            <button type="button" class="quiet" onClick=${() => setReviewing(false)}>Back to editing</button>
          </div>
        </div>
        <p class="muted small">Apply writes the file and reloads it; requests in flight finish on the config they began with.</p>
        <${Diff} before=${file.text} after=${text} />
      </section>` : null}
    ${effectivePanel}`;
}
