import { html } from '../vendor/htm-preact.js';

export function Overview() {
  return html`<p>Coming.</p>`;
}
