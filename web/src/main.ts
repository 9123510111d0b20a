import './csp.ts';
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { exposeDevApi } from './devApi.ts';
import { report, showErrorsIn } from './lib/shared/errors.ts';
import { registerServiceWorker, watchInstall } from './lib/pwa/pwa.ts';
import { signInWithLink, takeSignInLink } from './lib/services/linkSignIn.ts';
import { restore } from './lib/services/session.ts';
import { notices } from './lib/state/notices.svelte.ts';
import { router } from './lib/state/router.svelte.ts';
import { theme } from './lib/state/theme.svelte.ts';

showErrorsIn((text, code) => notices.push(text, code));
theme.start();
router.start();
watchInstall();
exposeDevApi();
window.addEventListener('unhandledrejection', (event) => report(event.reason));
const link = takeSignInLink();
void restore(link === null ? undefined : () => signInWithLink(link)).catch(report);
// A link opened in a tab already showing the app changes only the fragment: no new page load.
window.addEventListener('hashchange', () => {
  const next = takeSignInLink();
  if (next !== null) void signInWithLink(next);
});
registerServiceWorker();

const target = document.getElementById('app');
if (target === null) throw new Error('index.html has no #app');
export default mount(App, { target });
