import './lib/csp.ts';
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { exposeDevApi } from './lib/services/devApi.ts';
import { report } from './lib/services/errors.ts';
import { registerServiceWorker, watchInstall } from './lib/services/pwa.ts';
import { restore } from './lib/services/session.ts';
import { router } from './lib/state/router.svelte.ts';
import { theme } from './lib/state/theme.svelte.ts';

theme.start();
router.start();
watchInstall();
exposeDevApi();
window.addEventListener('unhandledrejection', (event) => report(event.reason));
void restore().catch(report);
registerServiceWorker();

const target = document.getElementById('app');
if (target === null) throw new Error('index.html has no #app');
export default mount(App, { target });
