// The pages of the dashboard, in navigation order: the hash route (#/<id>), the title (the nav
// entry and the page's heading) and the view. A page gets `route` ({ page, rest }) and `session`.
import { Overview } from './overview.js';
import { Providers } from './providers.js';
import { Models } from './models.js';
import { Requests } from './requests.js';
import { Usage } from './usage.js';
import { Keys } from './keys.js';
import { Config } from './config.js';

/** @type {{ id: string, title: string, component: any }[]} */
export const PAGES = [
  { id: 'overview', title: 'Overview', component: Overview },
  { id: 'providers', title: 'Providers', component: Providers },
  { id: 'models', title: 'Models and routes', component: Models },
  { id: 'usage', title: 'Usage and cost', component: Usage },
  { id: 'keys', title: 'Keys', component: Keys },
  { id: 'requests', title: 'Requests', component: Requests },
  { id: 'config', title: 'Config', component: Config },
];
