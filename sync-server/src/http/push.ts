/** Web Push subscriptions (`/api/v1/push/...`), the contract in @parley/protocol's push.ts. */
import { API_PREFIX, PushKey, PushSubscriptionBody } from '@parley/protocol';
import type { PushService } from '../push/push.ts';
import { parseBody } from './errors.ts';
import type { Caller, RouteBook } from './routes.ts';

export function registerPush(routes: RouteBook, { push, caller }: { push: PushService; caller: Caller }): void {
  routes.add({ method: 'GET', url: `${API_PREFIX}/push/key`, summary: "The server's VAPID public key, to subscribe with", auth: 'none', response: PushKey }, () =>
    Promise.resolve({ publicKey: push.publicKey }),
  );

  routes.add(
    {
      method: 'PUT',
      url: `${API_PREFIX}/push/subscription`,
      summary: "Subscribe the caller's device to pushes (replaces its subscription; previews: false sends no message text)",
      auth: 'user',
      body: PushSubscriptionBody,
      status: 204,
    },
    async (request) => {
      const { user, device } = await caller(request);
      await push.subscribe(user, device, parseBody(PushSubscriptionBody, request.body));
    },
  );

  routes.add(
    { method: 'DELETE', url: `${API_PREFIX}/push/subscription`, summary: "Stop pushes to the caller's device (sign-out)", auth: 'user', status: 204 },
    async (request) => {
      const { user, device } = await caller(request);
      await push.unsubscribe(user, device);
    },
  );
}
