/** Fails fast, with the fix, when the app has not been built: every test serves dist/. */
import { existsSync } from 'node:fs';
import { STATIC_DIR } from './server.ts';

export default function globalSetup(): void {
  if (!existsSync(`${STATIC_DIR}/index.html`)) {
    throw new Error(`${STATIC_DIR}/index.html is missing: run \`npm run build\` first (\`npm run test:e2e\` does).`);
  }
}
