// Keys: the gateway's own keys and teams (GET /v0/management/keys, …/teams) — create (the secret
// shown once, with a copy button, and never again), edit limits, disable and enable, rotate,
// delete; each one's spend against its budget as a bar and its remaining rate limits (…/usage).
import { html, useEffect, useRef, useState } from '../vendor/htm-preact.js';
import { api } from '../lib/api.js';
import { dateTime, money, number } from '../lib/format.js';
import { STORAGE_OFF, storageEnabled } from '../lib/storage.js';

/** Usage is asked per key; past this many keys the list shows limits without usage. */
const USAGE_MAX = 50;
const PERIODS = ['day', 'week', 'month', 'total'];

/** @typedef {{ name: string, team: string, models: string, rpm: string, tpm: string, max_concurrent: string, budget_usd: string, budget_period: string, soft_usd: string, expires_at: string }} Draft */

/** @param {any} item @returns {Draft} */
function draftOf(item) {
  return {
    name: item?.name ?? '',
    team: item?.team ?? '',
    models: (item?.models ?? []).join(', '),
    rpm: item?.rpm !== undefined ? String(item.rpm) : '',
    tpm: item?.tpm !== undefined ? String(item.tpm) : '',
    max_concurrent: item?.max_concurrent !== undefined ? String(item.max_concurrent) : '',
    budget_usd: item?.budget !== undefined ? String(item.budget.usd) : '',
    budget_period: item?.budget?.period ?? 'month',
    soft_usd: item?.budget?.soft_usd !== undefined ? String(item.budget.soft_usd) : '',
    expires_at: item?.expires_at ? item.expires_at.slice(0, 10) : '',
  };
}

/**
 * The request body of a draft: on create, empty fields are left out; on edit, an emptied field is
 * null (cleared). Numbers go as typed, for the API to say what is wrong with them.
 * @param {Draft} draft @param {'key' | 'team'} kind @param {boolean} creating
 */
function bodyOf(draft, kind, creating) {
  /** @type {Record<string, unknown>} */
  const body = {};
  const empty = creating ? undefined : null;
  /** @param {string} text */
  const numeric = (text) => (text.trim() === '' ? empty : Number(text));
  body.name = draft.name.trim();
  const models = draft.models.split(/[\s,]+/).filter((entry) => entry !== '');
  body.models = models.length > 0 ? models : empty;
  body.rpm = numeric(draft.rpm);
  body.tpm = numeric(draft.tpm);
  body.max_concurrent = numeric(draft.max_concurrent);
  body.budget = draft.budget_usd.trim() === '' ? empty : {
    usd: Number(draft.budget_usd), period: draft.budget_period,
    ...(draft.soft_usd.trim() !== '' ? { soft_usd: Number(draft.soft_usd) } : {}),
  };
  if (kind === 'key') {
    body.team = draft.team === '' ? empty : draft.team;
    body.expires_at = draft.expires_at === '' ? empty : `${draft.expires_at}T00:00:00Z`;
  }
  for (const [name, value] of Object.entries(body)) if (value === undefined) delete body[name];
  return body;
}

/** @param {{ label: string, id: string, value: string, onInput: (value: string) => void, type?: string, hint?: string, children?: any, invalid?: boolean }} props */
function Field({ label, id, value, onInput, type = 'text', hint, children, invalid }) {
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      ${children ?? html`<input id=${id} type=${type} value=${value} aria-invalid=${invalid ? 'true' : undefined}
        aria-describedby=${hint !== undefined ? `${id}-hint` : undefined} inputmode=${type === 'text' ? undefined : 'decimal'}
        onInput=${(/** @type {any} */ event) => onInput(event.currentTarget.value)} />`}
      ${hint !== undefined ? html`<span id=${`${id}-hint`} class="muted small">${hint}</span>` : null}
    </div>`;
}

/**
 * The create and edit form of a key or a team.
 * @param {{ kind: 'key' | 'team', item: any, teams: any[], onDone: (answer: any) => void, onCancel: () => void }} props
 */
function LimitsForm({ kind, item, teams, onDone, onCancel }) {
  const creating = item === null;
  const [draft, setDraft] = useState(draftOf(item));
  const [error, setError] = useState(/** @type {{ message: string, param?: string } | null} */ (null));
  const [busy, setBusy] = useState(false);
  const first = useRef(/** @type {HTMLInputElement | null} */ (null));
  useEffect(() => { first.current?.focus(); }, []);
  /** @param {keyof Draft} name @returns {(value: string) => void} */
  const set = (name) => (value) => setDraft({ ...draft, [name]: value });
  const base = kind === 'key' ? '/v0/management/keys' : '/v0/management/teams';
  const prefix = `${kind}-${creating ? 'new' : 'edit'}`;
  /** @param {Event} event */
  const submit = (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = bodyOf(draft, kind, creating);
    const request = creating
      ? api(base, { method: 'POST', body })
      : api(`${base}/${encodeURIComponent(item.id)}`, { method: 'PATCH', body });
    request.then(onDone, (failure) => {
      setError({ message: failure.message, param: failure.data?.error?.param ?? undefined });
      setBusy(false);
    });
  };
  /** @param {string} name */
  const invalid = (name) => error?.param !== undefined && (error.param === name || error.param.startsWith(`${name}.`));
  const title = `${creating ? 'New' : 'Edit'} ${kind}${creating ? '' : ` ${item.name}`}`;
  return html`
    <form class="panel limits-form" onSubmit=${submit} aria-labelledby=${`${prefix}-title`} data-testid=${`${kind}-form`}>
      <h2 id=${`${prefix}-title`}>${title}</h2>
      <div class="form-grid">
        <div class="field">
          <label for=${`${prefix}-name`}>Name</label>
          <input id=${`${prefix}-name`} ref=${first} required value=${draft.name} aria-invalid=${invalid('name') ? 'true' : undefined}
            onInput=${(/** @type {any} */ event) => set('name')(event.currentTarget.value)} />
        </div>
        ${kind === 'key' ? html`
          <${Field} label="Team" id=${`${prefix}-team`} value=${draft.team} onInput=${set('team')}>
            <select id=${`${prefix}-team`} value=${draft.team} onChange=${(/** @type {any} */ event) => set('team')(event.currentTarget.value)}>
              <option value="">(none)</option>
              ${teams.map((team) => html`<option value=${team.name}>${team.name}</option>`)}
            </select>
          <//>` : null}
        <${Field} label="Models allowed" id=${`${prefix}-models`} value=${draft.models} onInput=${set('models')} invalid=${invalid('models')}
          hint="Comma-separated: aliases, provider:model, globs such as gpt-*. Empty: every model." />
        <${Field} label="Requests per minute" id=${`${prefix}-rpm`} type="number" value=${draft.rpm} onInput=${set('rpm')} invalid=${invalid('rpm')} />
        <${Field} label="Tokens per minute" id=${`${prefix}-tpm`} type="number" value=${draft.tpm} onInput=${set('tpm')} invalid=${invalid('tpm')} />
        <${Field} label="Requests at once" id=${`${prefix}-concurrent`} type="number" value=${draft.max_concurrent} onInput=${set('max_concurrent')} invalid=${invalid('max_concurrent')} />
        <${Field} label="Budget (USD)" id=${`${prefix}-budget`} type="number" value=${draft.budget_usd} onInput=${set('budget_usd')} invalid=${invalid('budget')} />
        <${Field} label="Budget period" id=${`${prefix}-period`} value=${draft.budget_period} onInput=${set('budget_period')}>
          <select id=${`${prefix}-period`} value=${draft.budget_period} onChange=${(/** @type {any} */ event) => set('budget_period')(event.currentTarget.value)}>
            ${PERIODS.map((period) => html`<option value=${period}>${period}</option>`)}
          </select>
        <//>
        <${Field} label="Warn at (USD)" id=${`${prefix}-soft`} type="number" value=${draft.soft_usd} onInput=${set('soft_usd')} invalid=${invalid('budget.soft_usd')}
          hint="Optional, below the budget." />
        ${kind === 'key' ? html`
          <${Field} label="Expires on (UTC)" id=${`${prefix}-expires`} type="date" value=${draft.expires_at} onInput=${set('expires_at')} invalid=${invalid('expires_at')} />` : null}
      </div>
      ${error !== null ? html`<p role="alert" class="error" data-testid="form-error">${error.message}</p>` : null}
      <div class="row">
        <button type="submit" disabled=${busy}>${busy ? 'Saving…' : creating ? `Create ${kind}` : 'Save'}</button>
        <button type="button" class="quiet" onClick=${onCancel}>Cancel</button>
      </div>
    </form>`;
}

/** The secret of a key just made or rotated: shown here once, never again. @param {{ answer: any, onDone: () => void }} props */
function NewSecret({ answer, onDone }) {
  const input = useRef(/** @type {HTMLInputElement | null} */ (null));
  const [copied, setCopied] = useState('');
  useEffect(() => { input.current?.select(); }, []);
  const copy = () => {
    const done = () => setCopied('Copied to the clipboard.');
    if (navigator.clipboard !== undefined) {
      navigator.clipboard.writeText(answer.key).then(done, () => setCopied('The browser refused the clipboard: select the key and copy it.'));
    } else {
      input.current?.select();
      setCopied('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };
  return html`
    <section class="panel secret" aria-labelledby="secret-title" data-testid="new-secret">
      <h2 id="secret-title">The key ${answer.name}</h2>
      <p>Copy it now: it is shown this once, and the gateway keeps only its digest.</p>
      <div class="row">
        <label for="secret-value" class="visually-hidden">Key ${answer.name}</label>
        <input id="secret-value" class="mono secret-value" readonly value=${answer.key} ref=${input} />
        <button type="button" onClick=${copy}>Copy</button>
        <button type="button" class="quiet" onClick=${onDone}>Done</button>
      </div>
      ${copied !== '' ? html`<p role="status" class="muted">${copied}</p>` : null}
    </section>`;
}

/** Spend against the budget as a bar. @param {{ budget: any, spent: number | null, name: string }} props */
function BudgetBar({ budget, spent, name }) {
  if (budget === undefined || budget === null) return html`<span class="muted">${spent === null ? 'no budget' : `${money(spent)} · no budget`}</span>`;
  const value = spent ?? 0;
  return html`
    <div class="budget">
      <meter min="0" max=${budget.usd} low=${budget.soft_usd ?? budget.usd * 0.8} high=${budget.usd * 0.999} optimum="0" value=${Math.min(value, budget.usd)}
        aria-label=${`${name}: ${money(value)} of ${money(budget.usd)} this ${budget.period}`}></meter>
      <span class="small">${money(value)} of ${money(budget.usd)} / ${budget.period}</span>
    </div>`;
}

/** What is left of the rate limits now. @param {{ scope: any }} props */
function Remaining({ scope }) {
  if (scope === null || scope === undefined) return html`<span class="muted">no limits</span>`;
  const parts = [];
  if (scope.rpm) parts.push(`${number(scope.rpm.remaining)}/${number(scope.rpm.limit)} req/min`);
  if (scope.tpm) parts.push(`${number(scope.tpm.remaining)}/${number(scope.tpm.limit)} tok/min`);
  if (scope.max_concurrent) parts.push(`${number(scope.max_concurrent.in_use)}/${number(scope.max_concurrent.limit)} in flight`);
  if (scope.budget) parts.push(`${money(scope.budget.remaining_usd)} left`);
  return parts.length === 0 ? html`<span class="muted">no limits</span>` : html`<ul class="plain small">${parts.map((part) => html`<li>${part}</li>`)}</ul>`;
}

/** @param {any} item */
function limitsText(item) {
  const parts = [];
  if (item.models?.length) parts.push(`models: ${item.models.join(', ')}`);
  if (item.rpm !== undefined) parts.push(`${number(item.rpm)} rpm`);
  if (item.tpm !== undefined) parts.push(`${number(item.tpm)} tpm`);
  if (item.max_concurrent !== undefined) parts.push(`${number(item.max_concurrent)} at once`);
  return parts.length === 0 ? 'none' : parts.join(' · ');
}

/**
 * The budget period's spend: the enforcement's own count when it has one (what the limit sees),
 * else the usage store's sum for the period (this month's without a budget).
 * @param {any} usage a …/usage answer @param {any} budget @param {any} scope its remaining limits
 */
function spentOf(usage, budget, scope) {
  if (usage === undefined) return null;
  if (budget?.usd !== undefined && scope?.budget) return scope.budget.spent_usd;
  return usage.usage?.[budget?.period ?? 'month']?.cost_usd ?? 0;
}

/** @param {{ actions: { label: string, run: () => Promise<any>, danger?: boolean, confirm?: string }[], name: string }} props */
function Actions({ actions, name }) {
  const [asking, setAsking] = useState('');
  return html`<div class="row actions">
    ${actions.map((action) => asking === action.label
      ? html`<button type="button" class="danger" aria-label=${`${action.confirm} ${name}`} onClick=${() => { setAsking(''); action.run(); }}>${action.confirm}</button>
             <button type="button" class="quiet" onClick=${() => setAsking('')}>Keep</button>`
      : html`<button type="button" class=${action.danger ? 'danger' : 'quiet'} aria-label=${`${action.label} ${name}`}
          onClick=${() => (action.confirm !== undefined ? setAsking(action.label) : action.run())}>${action.label}</button>`)}
  </div>`;
}

export function Keys() {
  const [keys, setKeys] = useState(/** @type {any[] | null} */ (null));
  const [teams, setTeams] = useState(/** @type {any[]} */ ([]));
  const [usage, setUsage] = useState(/** @type {Record<string, any>} */ ({}));
  const [form, setForm] = useState(/** @type {{ kind: 'key' | 'team', item: any } | null} */ (null));
  const [secret, setSecret] = useState(/** @type {any} */ (null));
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');

  const load = () => storageEnabled().then((enabled) => {
    if (!enabled) throw Object.assign(new Error(STORAGE_OFF), { status: 404 });
    return Promise.all([api('/v0/management/keys'), api('/v0/management/teams')]);
  }).then(([keyList, teamList]) => {
    setKeys(keyList.data);
    setTeams(teamList.data);
    setError('');
    const ids = [
      ...keyList.data.slice(0, USAGE_MAX).map((/** @type {any} */ key) => ['keys', key.id]),
      ...teamList.data.slice(0, USAGE_MAX).map((/** @type {any} */ team) => ['teams', team.id]),
    ];
    return Promise.all(ids.map(([kind, id]) => api(`/v0/management/${kind}/${encodeURIComponent(id)}/usage`).catch(() => undefined))).then((answers) => {
      /** @type {Record<string, any>} */
      const byId = {};
      ids.forEach(([, id], index) => { if (answers[index] !== undefined) byId[id] = answers[index]; });
      setUsage(byId);
    });
  }, (failure) => setError(failure.status === 503
    ? `${failure.message} Keys of the config file (auth.keys) are not listed here.`
    : failure.message));

  useEffect(() => { load(); }, []);

  /** @param {Promise<any>} request @param {(answer: any) => string} said */
  const change = (request, said) => request.then((answer) => {
    setMessage(said(answer));
    if (answer?.key !== undefined) setSecret(answer);
    return load();
  }, (failure) => setMessage(`Refused: ${failure.message}`));

  /** @param {any} key */
  const keyActions = (key) => {
    const path = `/v0/management/keys/${encodeURIComponent(key.id)}`;
    return [
      { label: 'Edit', run: async () => setForm({ kind: 'key', item: key }) },
      key.disabled
        ? { label: 'Enable', run: () => change(api(path, { method: 'PATCH', body: { disabled: false } }), () => `Key ${key.name} enabled.`) }
        : { label: 'Disable', run: () => change(api(path, { method: 'PATCH', body: { disabled: true } }), () => `Key ${key.name} disabled: it is refused from now on.`) },
      { label: 'Rotate', confirm: 'Confirm rotate', run: () => change(api(`${path}/rotate`, { method: 'POST' }), () => `Key ${key.name} rotated: the old secret is refused from now on.`) },
      { label: 'Delete', danger: true, confirm: 'Confirm delete', run: () => change(api(path, { method: 'DELETE' }), () => `Key ${key.name} deleted.`) },
    ];
  };
  /** @param {any} team */
  const teamActions = (team) => [
    { label: 'Edit', run: async () => setForm({ kind: 'team', item: team }) },
    { label: 'Delete', danger: true, confirm: 'Confirm delete', run: () => change(api(`/v0/management/teams/${encodeURIComponent(team.id)}`, { method: 'DELETE' }), () => `Team ${team.name} deleted.`) },
  ];

  if (error !== '') return html`<p role="alert" class="error">${error}</p>`;
  if (keys === null) return html`<p class="muted">Loading…</p>`;
  return html`
    <p class="muted">The gateway's own keys (the key store); keys written in the config file (<code>auth.keys</code>) are not listed.
      As soon as one key exists, every request needs a key.</p>
    <div class="row toolbar">
      <button type="button" onClick=${() => { setSecret(null); setForm({ kind: 'key', item: null }); }}>New key</button>
      <button type="button" class="quiet" onClick=${() => setForm({ kind: 'team', item: null })}>New team</button>
    </div>
    ${message !== '' ? html`<p role="status" class=${message.startsWith('Refused') ? 'error' : 'ok'} data-testid="keys-message">${message}</p>` : null}
    ${secret !== null ? html`<${NewSecret} answer=${secret} onDone=${() => setSecret(null)} />` : null}
    ${form !== null ? html`<${LimitsForm} key=${`${form.kind}-${form.item?.id ?? 'new'}`} kind=${form.kind} item=${form.item} teams=${teams}
      onCancel=${() => setForm(null)}
      onDone=${(/** @type {any} */ answer) => {
        const creating = form.item === null;
        setForm(null);
        setMessage(`${form.kind === 'key' ? 'Key' : 'Team'} ${answer.name} ${creating ? 'created' : 'saved'}.`);
        if (answer.key !== undefined) setSecret(answer);
        load();
      }} />` : null}
    <section class="panel" aria-labelledby="keys-title">
      <h2 id="keys-title">Keys</h2>
      ${keys.length === 0 ? html`<p class="muted">No keys yet.</p>` : html`
      <div class="table-wrap"><table data-testid="keys-table">
        <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Team</th><th scope="col">State</th>
          <th scope="col">Limits</th><th scope="col">Spend</th><th scope="col">Remaining now</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
        <tbody>${keys.map((key) => {
          const expired = key.expires_at !== null && Date.parse(key.expires_at) <= Date.now();
          const state = key.disabled ? 'disabled' : expired ? 'expired' : 'active';
          const keyUsage = usage[key.id];
          return html`
            <tr data-key=${key.name}>
              <th scope="row">${key.name}<div class="muted mono small">${key.id}</div></th>
              <td class="mono">${key.key_prefix}</td>
              <td>${key.team ?? html`<span class="muted">—</span>`}</td>
              <td><span class=${`badge ${state === 'active' ? 'ok' : 'bad'}`}>${state}</span>
                ${key.expires_at !== null ? html`<div class="muted small">until ${dateTime(key.expires_at)}</div>` : null}</td>
              <td class="small">${limitsText(key)}</td>
              <td><${BudgetBar} budget=${key.budget} spent=${spentOf(keyUsage, key.budget, keyUsage?.remaining?.key)} name=${key.name} />
                ${keyUsage !== undefined ? html`<div class="muted small">${number(keyUsage.usage.total.requests)} ${keyUsage.usage.total.requests === 1 ? 'request' : 'requests'} in all</div>` : null}</td>
              <td><${Remaining} scope=${keyUsage?.remaining?.key} /></td>
              <td><${Actions} actions=${keyActions(key)} name=${key.name} /></td>
            </tr>`;
        })}</tbody>
      </table></div>`}
    </section>
    <section class="panel" aria-labelledby="teams-title">
      <h2 id="teams-title">Teams</h2>
      ${teams.length === 0 ? html`<p class="muted">No teams. A team's limits and budget hold for all its keys together.</p>` : html`
      <div class="table-wrap"><table data-testid="teams-table">
        <thead><tr><th scope="col">Name</th><th scope="col" class="num">Keys</th><th scope="col">Limits</th><th scope="col">Spend</th>
          <th scope="col">Remaining now</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
        <tbody>${teams.map((team) => html`
          <tr data-team=${team.name}>
            <th scope="row">${team.name}</th>
            <td class="num">${number(team.keys)}</td>
            <td class="small">${limitsText(team)}</td>
            <td><${BudgetBar} budget=${team.budget} spent=${spentOf(usage[team.id], team.budget, usage[team.id]?.remaining)} name=${team.name} /></td>
            <td><${Remaining} scope=${usage[team.id]?.remaining} /></td>
            <td><${Actions} actions=${teamActions(team)} name=${team.name} /></td>
          </tr>`)}</tbody>
      </table></div>`}
    </section>`;
}
