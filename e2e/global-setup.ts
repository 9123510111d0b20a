/** Fails fast, with the fix, when the app or the server has not been built: every test serves dist/ from the compiled server. */
import { existsSync } from 'node:fs';
import { SERVER_ENTRY, STATIC_DIR } from './server.ts';

export default function globalSetup(): void {
  if (!existsSync(`${STATIC_DIR}/index.html`)) {
    throw new Error(`${STATIC_DIR}/index.html is missing: run \`npm run build\` first (\`npm run test:e2e\` does).`);
  }
  if (!existsSync(SERVER_ENTRY)) {
    throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` first (\`npm run test:e2e\` does).`);
  }
}
