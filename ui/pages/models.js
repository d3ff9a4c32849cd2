import { html } from '../vendor/htm-preact.js';

export function Models() {
  return html`<p>Coming.</p>`;
}
