/**
 * Imported first by the page and the service worker. The server's
 * Content-Security-Policy allows no eval; zod would otherwise try
 * `Function('')` once to learn whether it may compile its parsers (and the
 * browser would report that as a CSP violation). Without it, zod parses as
 * fast as Parley's payloads need.
 */
import { config } from 'zod';

config({ jitless: true });
