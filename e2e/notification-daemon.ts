/**
 * The desktop's notification daemon, played by the test: a private D-Bus
 * session bus (`dbus-daemon`) on which this process owns
 * `org.freedesktop.Notifications`, the service Chromium on Linux shows web
 * notifications through. Chromium hands every notification it displays to
 * `Notify`, and treats the `ActionInvoked(id, "default")` signal as the user
 * clicking it — the same path a click in a real notification centre takes, so
 * the service worker gets a trusted `notificationclick` with the right to
 * focus and open windows.
 *
 * Only what that conversation needs of the D-Bus wire protocol is here:
 * little-endian messages, EXTERNAL authentication, and the marshalling of the
 * types in the notification interface's signatures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

/** What Chromium asked the daemon to show. */
export interface ShownNotification {
  id: number;
  appName: string;
  summary: string;
  body: string;
  actions: string[];
  closed: boolean;
}

type Value = string | number | boolean | Value[] | { sig: string; value: Value } | Map<Value, Value>;

// ---- marshalling ---------------------------------------------------------------

/** The end of the single complete type that starts at `sig[i]`. */
function typeEnd(sig: string, i: number): number {
  const c = sig[i];
  if (c === 'a') return typeEnd(sig, i + 1);
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let j = i + 1;
    while (sig[j] !== close) j = typeEnd(sig, j);
    return j + 1;
  }
  return i + 1;
}

function splitTypes(sig: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sig.length; ) {
    const end = typeEnd(sig, i);
    out.push(sig.slice(i, end));
    i = end;
  }
  return out;
}

function alignOf(type: string): number {
  switch (type[0]) {
    case 'y':
    case 'g':
    case 'v':
      return 1;
    case 'n':
    case 'q':
      return 2;
    case 'x':
    case 't':
    case 'd':
    case '(':
    case '{':
      return 8;
    default:
      return 4;
  }
}

class Writer {
  private bytes: number[] = [];

  get length(): number {
    return this.bytes.length;
  }

  pad(n: number): void {
    while (this.bytes.length % n !== 0) this.bytes.push(0);
  }

  u32(v: number): void {
    this.pad(4);
    this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  setU32(at: number, v: number): void {
    this.bytes.splice(at, 4, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  write(type: string, value: Value): void {
    switch (type[0]) {
      case 'y':
        this.bytes.push(Number(value) & 0xff);
        return;
      case 'b':
        this.u32(value === true ? 1 : 0);
        return;
      case 'i':
      case 'u':
        this.u32(Number(value) >>> 0);
        return;
      case 's':
      case 'o': {
        const b = Buffer.from(value as string, 'utf8');
        this.u32(b.length);
        this.bytes.push(...b, 0);
        return;
      }
      case 'g': {
        const b = Buffer.from(value as string, 'utf8');
        this.bytes.push(b.length, ...b, 0);
        return;
      }
      case 'v': {
        const v = value as { sig: string; value: Value };
        this.write('g', v.sig);
        this.write(v.sig, v.value);
        return;
      }
      case 'a': {
        const inner = type.slice(1);
        this.u32(0);
        const lengthAt = this.bytes.length - 4;
        this.pad(alignOf(inner));
        const start = this.bytes.length;
        for (const item of value as Value[]) this.write(inner, item);
        this.setU32(lengthAt, this.bytes.length - start);
        return;
      }
      case '(': {
        this.pad(8);
        const parts = splitTypes(type.slice(1, -1));
        parts.forEach((t, i) => this.write(t, (value as Value[])[i] as Value));
        return;
      }
      default:
        throw new Error(`cannot marshal D-Bus type ${type}`);
    }
  }

  buffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos = 0,
  ) {}

  align(n: number): void {
    this.pos = Math.ceil(this.pos / n) * n;
  }

  read(type: string): Value {
    switch (type[0]) {
      case 'y':
        return this.buf.readUInt8(this.pos++);
      case 'b':
        this.align(4);
        this.pos += 4;
        return this.buf.readUInt32LE(this.pos - 4) === 1;
      case 'n':
      case 'q':
        this.align(2);
        this.pos += 2;
        return type === 'n' ? this.buf.readInt16LE(this.pos - 2) : this.buf.readUInt16LE(this.pos - 2);
      case 'i':
        this.align(4);
        this.pos += 4;
        return this.buf.readInt32LE(this.pos - 4);
      case 'u':
      case 'h':
        this.align(4);
        this.pos += 4;
        return this.buf.readUInt32LE(this.pos - 4);
      case 'x':
      case 't':
      case 'd':
        this.align(8);
        this.pos += 8;
        return type === 'd' ? this.buf.readDoubleLE(this.pos - 8) : Number(this.buf.readBigInt64LE(this.pos - 8));
      case 's':
      case 'o': {
        this.align(4);
        const n = this.buf.readUInt32LE(this.pos);
        const s = this.buf.toString('utf8', this.pos + 4, this.pos + 4 + n);
        this.pos += 4 + n + 1;
        return s;
      }
      case 'g': {
        const n = this.buf.readUInt8(this.pos);
        const s = this.buf.toString('utf8', this.pos + 1, this.pos + 1 + n);
        this.pos += 1 + n + 1;
        return s;
      }
      case 'v': {
        const sig = this.read('g') as string;
        return { sig, value: this.read(sig) };
      }
      case 'a': {
        const inner = type.slice(1);
        this.align(4);
        const n = this.buf.readUInt32LE(this.pos);
        this.pos += 4;
        this.align(alignOf(inner));
        const end = this.pos + n;
        if (inner[0] === '{') {
          const [k, v] = splitTypes(inner.slice(1, -1)) as [string, string];
          const map = new Map<Value, Value>();
          while (this.pos < end) {
            this.align(8);
            map.set(this.read(k), this.read(v));
          }
          return map;
        }
        const items: Value[] = [];
        while (this.pos < end) items.push(this.read(inner));
        return items;
      }
      case '(': {
        this.align(8);
        return splitTypes(type.slice(1, -1)).map((t) => this.read(t));
      }
      default:
        throw new Error(`cannot read D-Bus type ${type}`);
    }
  }
}

/** D-Bus message types. */
const Kind = { Call: 1, Return: 2, Error: 3, Signal: 4 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

interface Incoming {
  kind: Kind;
  serial: number;
  fields: Map<number, Value>;
  body: Value[];
}

// ---- the daemon ----------------------------------------------------------------

const PATH = '/org/freedesktop/Notifications';
const NAME = 'org.freedesktop.Notifications';
const BUS = 'org.freedesktop.DBus';

export class NotificationDaemon {
  /** Every notification Chromium showed, by id, in order. */
  readonly shown: ShownNotification[] = [];
  private serial = 1;
  private nextId = 1;
  private inbox = Buffer.alloc(0);
  private readonly replies = new Map<number, (m: Incoming) => void>();

  private constructor(
    private readonly bus: ChildProcess,
    private readonly socket: Socket,
    /** `DBUS_SESSION_BUS_ADDRESS` for the browser. */
    readonly address: string,
  ) {}

  /** Starts a private session bus and takes the notification service's name on it. */
  static async start(): Promise<NotificationDaemon> {
    const bus = spawn('dbus-daemon', ['--session', '--nofork', '--nopidfile', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const address = await new Promise<string>((resolve, reject) => {
      bus.once('error', (e) => reject(new Error(`dbus-daemon could not start (${e.message}); the notification-click spec needs it`)));
      createInterface({ input: bus.stdout as NodeJS.ReadableStream }).once('line', (line) => resolve(line.trim()));
    });
    const socketPath = /unix:(?:path|abstract)=([^,]+)/.exec(address)?.[1];
    if (socketPath === undefined) throw new Error(`unexpected D-Bus address ${address}`);
    const socket = createConnection(address.includes('abstract=') ? `\0${socketPath}` : socketPath);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    await authenticate(socket);
    const daemon = new NotificationDaemon(bus, socket, address);
    socket.on('data', (chunk: Buffer) => daemon.receive(chunk));
    await daemon.call(BUS, '/org/freedesktop/DBus', BUS, 'Hello', '', []);
    // DBUS_NAME_FLAG_DO_NOT_QUEUE: fail rather than wait if someone else has it.
    const [result] = (await daemon.call(BUS, '/org/freedesktop/DBus', BUS, 'RequestName', 'su', [NAME, 4])).body;
    if (result !== 1) throw new Error(`could not own ${NAME} on the private bus (RequestName answered ${JSON.stringify(result)})`);
    return daemon;
  }

  /** The user clicks the notification (its body, not a button). */
  click(id: number): void {
    this.signal('ActionInvoked', 'us', [id, 'default']);
  }

  async stop(): Promise<void> {
    this.socket.destroy();
    if (this.bus.exitCode === null) {
      const exited = new Promise((resolve) => this.bus.once('exit', resolve));
      this.bus.kill('SIGTERM');
      await exited;
    }
  }

  // ---- wire --------------------------------------------------------------------

  private send(kind: Kind, fields: [number, string, Value][], sig: string, body: Value[], flags = 0): number {
    const serial = this.serial++;
    const bodyWriter = new Writer();
    splitTypes(sig).forEach((t, i) => bodyWriter.write(t, body[i] as Value));
    const w = new Writer();
    w.write('y', 'l'.charCodeAt(0));
    w.write('y', kind);
    w.write('y', flags);
    w.write('y', 1);
    w.u32(bodyWriter.length);
    w.u32(serial);
    const all = sig === '' ? fields : [...fields, [8, 'g', sig] as [number, string, Value]];
    w.write(
      'a(yv)',
      all.map(([code, type, value]) => [code, { sig: type, value }]),
    );
    w.pad(8);
    this.socket.write(Buffer.concat([w.buffer(), bodyWriter.buffer()]));
    return serial;
  }

  private call(destination: string, path: string, iface: string, member: string, sig: string, body: Value[]): Promise<Incoming> {
    const serial = this.send(
      Kind.Call,
      [
        [1, 'o', path],
        [2, 's', iface],
        [3, 's', member],
        [6, 's', destination],
      ],
      sig,
      body,
    );
    return new Promise((resolve, reject) => {
      this.replies.set(serial, (m) => (m.kind === Kind.Error ? reject(new Error(`${member}: ${JSON.stringify(m.body)}`)) : resolve(m)));
    });
  }

  private signal(member: string, sig: string, body: Value[]): void {
    this.send(
      Kind.Signal,
      [
        [1, 'o', PATH],
        [2, 's', NAME],
        [3, 's', member],
      ],
      sig,
      body,
    );
  }

  private reply(to: Incoming, sig: string, body: Value[]): void {
    const fields: [number, string, Value][] = [[5, 'u', to.serial]];
    const sender = to.fields.get(7);
    if (typeof sender === 'string') fields.push([6, 's', sender]);
    this.send(Kind.Return, fields, sig, body);
  }

  private fail(to: Incoming, name: string): void {
    const fields: [number, string, Value][] = [
      [5, 'u', to.serial],
      [4, 's', name],
    ];
    const sender = to.fields.get(7);
    if (typeof sender === 'string') fields.push([6, 's', sender]);
    this.send(Kind.Error, fields, 's', [name]);
  }

  private receive(chunk: Buffer): void {
    this.inbox = Buffer.concat([this.inbox, chunk]);
    for (;;) {
      if (this.inbox.length < 16) return;
      const bodyLength = this.inbox.readUInt32LE(4);
      const fieldsLength = this.inbox.readUInt32LE(12);
      const headerEnd = Math.ceil((16 + fieldsLength) / 8) * 8;
      const total = headerEnd + bodyLength;
      if (this.inbox.length < total) return;
      const message = this.inbox.subarray(0, total);
      this.inbox = this.inbox.subarray(total);
      const r = new Reader(message, 12);
      const fields = new Map((r.read('a(yv)') as Value[][]).map(([code, v]) => [code as number, (v as { value: Value }).value]));
      const sig = fields.get(8);
      const body = new Reader(message, headerEnd);
      const incoming: Incoming = {
        kind: message.readUInt8(1) as Kind,
        serial: message.readUInt32LE(8),
        fields,
        body: typeof sig === 'string' ? splitTypes(sig).map((t) => body.read(t)) : [],
      };
      this.dispatch(incoming);
    }
  }

  private dispatch(m: Incoming): void {
    if (m.kind === Kind.Return || m.kind === Kind.Error) {
      const replySerial = m.fields.get(5);
      const resolve = typeof replySerial === 'number' ? this.replies.get(replySerial) : undefined;
      if (resolve !== undefined) {
        this.replies.delete(replySerial as number);
        resolve(m);
      }
      return;
    }
    if (m.kind !== Kind.Call) return;
    const member = m.fields.get(3);
    switch (member) {
      case 'GetCapabilities':
        this.reply(m, 'as', [['actions', 'body', 'body-hyperlinks', 'body-markup', 'icon-static', 'persistence']]);
        return;
      case 'GetServerInformation':
        this.reply(m, 'ssss', ['parley-e2e', 'Parley', '1.0', '1.2']);
        return;
      case 'Notify': {
        const [appName, replaces, , summary, body, actions] = m.body as [string, number, string, string, string, string[]];
        const existing = replaces !== 0 ? this.shown.find((n) => n.id === replaces) : undefined;
        const id = existing?.id ?? this.nextId++;
        const shown: ShownNotification = { id, appName, summary, body, actions, closed: false };
        if (existing !== undefined) Object.assign(existing, shown);
        else this.shown.push(shown);
        this.reply(m, 'u', [id]);
        return;
      }
      case 'CloseNotification': {
        const [id] = m.body as [number];
        const n = this.shown.find((s) => s.id === id);
        if (n !== undefined) n.closed = true;
        this.reply(m, '', []);
        // Reason 3: closed by a call to CloseNotification.
        this.signal('NotificationClosed', 'uu', [id, 3]);
        return;
      }
      case 'Introspect':
      case 'Ping':
        this.reply(m, member === 'Introspect' ? 's' : '', member === 'Introspect' ? ['<node/>'] : []);
        return;
      default:
        this.fail(m, 'org.freedesktop.DBus.Error.UnknownMethod');
    }
  }
}

/** SASL EXTERNAL with this process's uid, as every local D-Bus client does. */
async function authenticate(socket: Socket): Promise<void> {
  const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex');
  socket.write(`\0AUTH EXTERNAL ${uid}\r\n`);
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n')) return;
      socket.off('data', onData);
      resolve(text);
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  if (!line.startsWith('OK')) throw new Error(`D-Bus authentication refused: ${line.trim()}`);
  socket.write('BEGIN\r\n');
}
