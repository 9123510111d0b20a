/** What the error funnel shows (shared/errors.ts `report`, through the sink main.ts sets): short notices a person can read and dismiss. */
export interface Notice {
  id: number;
  text: string;
  /** The stable code, for support: on the notice's element (`data-code`) and in the console, not in its text. */
  code?: string | undefined;
}

const SHOW_MS = 8000;

class Notices {
  list = $state<Notice[]>([]);
  #next = 1;

  push(text: string, code?: string): void {
    if (this.list.some((n) => n.text === text)) return;
    const id = this.#next++;
    this.list = [...this.list.slice(-2), { id, text, code }];
    setTimeout(() => this.dismiss(id), SHOW_MS);
  }

  dismiss(id: number): void {
    this.list = this.list.filter((n) => n.id !== id);
  }
}

export const notices = new Notices();
