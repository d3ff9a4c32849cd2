import { html } from '../vendor/htm-preact.js';

export function Requests() {
  return html`<p>Coming.</p>`;
}
