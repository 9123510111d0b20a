/**
 * Recording a voice message: the microphone through MediaRecorder (Opus in
 * WebM where the browser has it, else what it offers). The duration is
 * measured here, from the recorder's start to the user's stop, since recorded
 * WebM carries none of its own. So is the waveform: the loudest sample of each
 * moment (an AnalyserNode on the same stream, read every LEVEL_MS), folded
 * into at most LIMITS.waveformLevels levels when the recording stops.
 */
import { LIMITS } from '@parley/protocol';
import { AppError } from '../shared/errors.ts';

/** How often the loudness is read while recording. */
const LEVEL_MS = 50;

/**
 * Peaks (0..1) read while recording, as at most `count` levels 0-255: each the
 * loudest peak of its stretch, scaled so that the loudest is 255 (a quiet
 * recording still shows its shape). Silence throughout is all zeros.
 */
export function foldWaveform(peaks: readonly number[], count: number = LIMITS.waveformLevels): number[] {
  if (peaks.length === 0) return [];
  const n = Math.min(count, peaks.length);
  const levels: number[] = [];
  for (let i = 0; i < n; i++) {
    const from = Math.floor((i * peaks.length) / n);
    const to = Math.max(from + 1, Math.floor(((i + 1) * peaks.length) / n));
    levels.push(Math.max(...peaks.slice(from, to)));
  }
  const loudest = Math.max(...levels);
  return levels.map((v) => (loudest <= 0 ? 0 : Math.round((Math.min(1, v) / Math.min(1, loudest)) * 255)));
}

/** A voice message longer than this stops by itself (and is kept). */
export const MAX_RECORDING_S = 15 * 60;

const PREFERRED = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4', 'audio/webm'];

export interface Recorded {
  blob: Blob;
  /** Seconds. */
  duration: number;
  /** Loudness over the recording: at most LIMITS.waveformLevels levels 0-255 (empty where it could not be measured). */
  waveform: number[];
}

export class VoiceRecording {
  readonly #recorder: MediaRecorder;
  readonly #stream: MediaStream;
  readonly #chunks: Blob[] = [];
  readonly #stopped: Promise<void>;
  #startedAt = 0;
  #stoppedAt = 0;
  readonly #peaks: number[] = [];
  #audio: AudioContext | null = null;
  #meter: ReturnType<typeof setInterval> | undefined;

  private constructor(stream: MediaStream) {
    this.#stream = stream;
    this.#listen(stream);
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
    clearInterval(this.#meter);
    await this.#stopped;
    this.#release();
    const type = this.#chunks[0]?.type || this.#recorder.mimeType || 'audio/webm';
    return { blob: new Blob(this.#chunks, { type }), duration: this.elapsed, waveform: foldWaveform(this.#peaks) };
  }

  /** Reads the stream's loudest sample every LEVEL_MS. Where Web Audio is missing, the message simply has no waveform. */
  #listen(stream: MediaStream): void {
    if (typeof AudioContext === 'undefined') return;
    try {
      const audio = new AudioContext();
      const analyser = audio.createAnalyser();
      analyser.fftSize = 2048;
      audio.createMediaStreamSource(stream).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      this.#audio = audio;
      this.#meter = setInterval(() => {
        analyser.getFloatTimeDomainData(samples);
        let peak = 0;
        for (const v of samples) peak = Math.max(peak, Math.abs(v));
        this.#peaks.push(peak);
      }, LEVEL_MS);
    } catch {
      this.#audio = null;
    }
  }

  /** Stops and throws the recording away. */
  cancel(): void {
    this.#stoppedAt ||= performance.now();
    if (this.#recorder.state !== 'inactive') this.#recorder.stop();
    this.#release();
  }

  #release(): void {
    clearInterval(this.#meter);
    void this.#audio?.close().catch(() => undefined);
    this.#audio = null;
    for (const track of this.#stream.getTracks()) track.stop();
  }
}
