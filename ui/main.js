// The dashboard's shell: the session (login when admin keys are configured), the navigation and
// the hash routes (#/overview, #/providers/…); each page is a module of pages/ (pages/index.js).
import { html, render, useEffect, useRef, useState } from './vendor/htm-preact.js';
import { api, setCsrf } from './lib/api.js';
import { PAGES } from './pages/index.js';
import { Login } from './pages/login.js';

/** @returns {{ page: string, rest: string[] }} */
function currentRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map((part) => decodeURIComponent(part));
  const page = parts[0] !== undefined && PAGES.some((entry) => entry.id === parts[0]) ? parts[0] : 'overview';
  return { page, rest: parts.slice(1) };
}

function useRoute() {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** @param {{ session: any, onSignOut: () => void }} props */
function Shell({ session, onSignOut }) {
  const route = useRoute();
  const page = PAGES.find((entry) => entry.id === route.page) ?? PAGES[0];
  const heading = useRef(/** @type {HTMLElement | null} */ (null));
  const first = useRef(true);
  useEffect(() => {
    document.title = `${page.title} · Switchyard`;
    // a new page: move focus to its heading so a screen reader announces it (not on first load)
    if (!first.current) heading.current?.focus();
    first.current = false;
  }, [page.id]);
  const Page = page.component;
  return html`
    <a class="skip" href="#main" onClick=${(/** @type {Event} */ event) => { event.preventDefault(); heading.current?.focus(); }}>Skip to content</a>
    <header class="top">
      <span class="brand" aria-hidden="true">⇄</span>
      <span class="title">Switchyard</span>
      <span class="who">${session.admin === 'loopback' ? 'loopback' : session.admin}</span>
      ${session.login_required ? html`<button type="button" class="quiet" onClick=${onSignOut}>Sign out</button>` : null}
    </header>
    <div class="layout">
      <nav aria-label="Pages" class="side">
        <ul>
          ${PAGES.map((entry) => html`
            <li><a href=${`#/${entry.id}`} aria-current=${entry.id === page.id ? 'page' : undefined}>${entry.title}</a></li>`)}
        </ul>
      </nav>
      <main id="main">
        <h1 tabindex="-1" ref=${heading}>${page.title}</h1>
        <${Page} key=${page.id} route=${route} session=${session} />
      </main>
    </div>`;
}

function App() {
  const [session, setSession] = useState(/** @type {any} */ (null));
  const [error, setError] = useState('');
  const load = () => api('/ui/session').then((answer) => {
    setCsrf(answer.csrf ?? '');
    setSession(answer);
  }, (failure) => setError(failure.message));
  useEffect(() => {
    load();
    const signedOut = () => setSession((current) => (current?.login_required ? { authenticated: false, login_required: true } : current));
    window.addEventListener('switchyard:signed-out', signedOut);
    return () => window.removeEventListener('switchyard:signed-out', signedOut);
  }, []);
  if (error !== '') return html`<main class="center"><h1>Switchyard</h1><p role="alert" class="error">${error}</p></main>`;
  if (session === null) return html`<p class="loading">Loading…</p>`;
  if (!session.authenticated) {
    return html`<${Login} onSignedIn=${(/** @type {any} */ answer) => { setCsrf(answer.csrf); setSession(answer); }} />`;
  }
  const signOut = () => api('/ui/session', { method: 'DELETE' }).finally(() => {
    setCsrf('');
    setSession({ authenticated: false, login_required: true });
  });
  return html`<${Shell} session=${session} onSignOut=${signOut} />`;
}

render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById('app')));
