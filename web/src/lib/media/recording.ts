/**
 * Recording a voice message: the microphone through MediaRecorder (Opus in
 * WebM where the browser has it, else what it offers). The duration is
 * measured here, from the recorder's start to the user's stop, since recorded
 * WebM carries none of its own.
 */
import { AppError } from '../shared/errors.ts';

/** A voice message longer than this stops by itself (and is kept). */
export const MAX_RECORDING_S = 15 * 60;

const PREFERRED = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4', 'audio/webm'];

export interface Recorded {
  blob: Blob;
  /** Seconds. */
  duration: number;
}

export class VoiceRecording {
  readonly #recorder: MediaRecorder;
  readonly #stream: MediaStream;
  readonly #chunks: Blob[] = [];
  readonly #stopped: Promise<void>;
  #startedAt = 0;
  #stoppedAt = 0;

  private constructor(stream: MediaStream) {
    this.#stream = stream;
    const mimeType = PREFERRED.find((t) => MediaRecorder.isTypeSupported(t));
    this.#recorder = new MediaRecorder(stream, mimeType === undefined ? {} : { mimeType });
    this.#recorder.addEventListener('dataavailable', (e) => {
      if (e.data.size > 0) this.#chunks.push(e.data);
    });
    this.#stopped = new Promise((resolve) => this.#recorder.addEventListener('stop', () => resolve()));
    this.#recorder.addEventListener('start', () => {
      this.#startedAt = performance.now();
    });
  }

  /** Asks for the microphone and starts recording. */
  static async start(): Promise<VoiceRecording> {
    if (typeof MediaRecorder === 'undefined' || navigator.mediaDevices === undefined) {
      throw new AppError('bad-request', 'This browser cannot record voice messages.');
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      const denied = (e as { name?: unknown } | null)?.name === 'NotAllowedError';
      throw new AppError(
        'bad-request',
        denied ? 'Parley may not use the microphone. Allow it in your browser’s site settings, then try again.' : 'No microphone is available.',
      );
    }
    const recording = new VoiceRecording(stream);
    // Chunks every second, so that a long recording is not one huge buffer at the end.
    recording.#recorder.start(1000);
    return recording;
  }

  /** Seconds recorded so far. */
  get elapsed(): number {
    return this.#startedAt === 0 ? 0 : ((this.#stoppedAt || performance.now()) - this.#startedAt) / 1000;
  }

  /** Stops and answers the recording. Its length ends at this call: the recorder may take a while to flush. */
  async stop(): Promise<Recorded> {
    this.#stoppedAt ||= performance.now();
    if (this.#recorder.state !== 'inactive') this.#recorder.stop();
    await this.#stopped;
    this.#release();
    const type = this.#chunks[0]?.type || this.#recorder.mimeType || 'audio/webm';
    return { blob: new Blob(this.#chunks, { type }), duration: this.elapsed };
  }

  /** Stops and throws the recording away. */
  cancel(): void {
    this.#stoppedAt ||= performance.now();
    if (this.#recorder.state !== 'inactive') this.#recorder.stop();
    this.#release();
  }

  #release(): void {
    for (const track of this.#stream.getTracks()) track.stop();
  }
}
