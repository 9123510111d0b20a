/**
 * One request works on an upload at a time. A newer one stops the one in
 * progress (on a bad network the client retries while the server still reads
 * the dead request), waits for it to record what it wrote, and then checks
 * its offset against that.
 */
import type { Receiving } from './receive.ts';

/** The request working on an upload. */
export interface Turn {
  stopped: boolean;
  receiving: Receiving | null;
  /** Bytes held when this request started writing. */
  base: number;
  /** Bytes held once it stopped writing (while it records them). */
  reached: number | null;
  /** Settles when the request has recorded what it wrote and let go. */
  over: Promise<void>;
}

export class UploadTurns {
  private readonly turns = new Map<string, Turn>();

  /** The request working on the upload now, if one is. */
  current(id: string): Turn | undefined {
    return this.turns.get(id);
  }

  /** Waits for the upload's previous request to stop and record what it wrote; `release` when done. */
  async take(id: string): Promise<{ turn: Turn; release: () => void }> {
    let release: () => void = () => undefined;
    const over = new Promise<void>((resolve) => (release = resolve));
    const turn: Turn = { stopped: false, receiving: null, base: 0, reached: null, over };
    const previous = this.turns.get(id);
    this.turns.set(id, turn);
    if (previous !== undefined) {
      stopTurn(previous);
      await previous.over;
    }
    return {
      turn,
      release: () => {
        if (this.turns.get(id) === turn) this.turns.delete(id);
        release();
      },
    };
  }

  /** Stops every request in progress; settles once each has recorded what it wrote. */
  async stopAll(): Promise<void> {
    const turns = [...this.turns.values()];
    for (const turn of turns) stopTurn(turn);
    await Promise.all(turns.map((turn) => turn.over));
  }
}

function stopTurn(turn: Turn): void {
  turn.stopped = true;
  turn.receiving?.stop();
}
