import { html } from '../vendor/htm-preact.js';

export function Providers() {
  return html`<p>Coming.</p>`;
}
