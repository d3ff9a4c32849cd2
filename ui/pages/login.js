// The login page: an admin key (auth.admin_keys) exchanged for a session cookie; the key itself
// is never stored by the page.
import { html, useState } from '../vendor/htm-preact.js';
import { api } from '../lib/api.js';

/** @param {{ onSignedIn: (session: any) => void }} props */
export function Login({ onSignedIn }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  /** @param {Event} event */
  const submit = (event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    api('/ui/session', { method: 'POST', body: { key } }).then((session) => {
      setKey('');
      onSignedIn(session);
    }, (failure) => {
      setError(failure.status === 401 ? 'That is not one of this gateway\'s admin keys.' : failure.message);
      setBusy(false);
    });
  };
  return html`
    <main class="center login" id="main">
      <h1>Switchyard</h1>
      <form onSubmit=${submit} aria-describedby="login-help">
        <p id="login-help">Sign in with an admin key (<code>auth.admin_keys</code> in the config). Client keys are not accepted.</p>
        <label for="admin-key">Admin key</label>
        <input id="admin-key" name="key" type="password" autocomplete="current-password" required value=${key}
          onInput=${(/** @type {any} */ event) => setKey(event.currentTarget.value)} />
        <button type="submit" disabled=${busy || key === ''}>${busy ? 'Signing in…' : 'Sign in'}</button>
        ${error !== '' ? html`<p role="alert" class="error">${error}</p>` : null}
      </form>
    </main>`;
}
