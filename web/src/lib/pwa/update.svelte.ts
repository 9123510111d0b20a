/** A new service worker is waiting: the update prompt shows until the user reloads. */
class UpdateState {
  waiting = $state(false);
  apply: () => void = () => {};
}

export const update = new UpdateState();
