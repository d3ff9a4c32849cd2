// A page not built yet.
import { html } from '../vendor/htm-preact.js';

export function Placeholder() {
  return html`<p>This page is not built yet.</p>`;
}
