import { Writable } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';

/**
 * Where DATA goes while it arrives: kept in memory up to `threshold` bytes (most mail is small,
 * and a message delivered inline then never touches the spool directory), spilled to a file
 * beyond that so a large message is never held whole in memory.
 */
export class SpillSink extends Writable {
  #chunks: Buffer[] = [];
  #size = 0;
  #fh?: FileHandle;
  #opened = false;
  #pos = 0;

  constructor(private readonly threshold: number, private readonly openFile: () => Promise<FileHandle>) {
    super({ highWaterMark: 256 * 1024 });
  }

  /** True once a file was (or is being) created: the caller must remove it if unused. */
  get spilled(): boolean {
    return this.#opened;
  }

  get handle(): FileHandle | undefined {
    return this.#fh;
  }

  /** The whole message when it stayed in memory. */
  bytes(): Buffer {
    if (this.#opened) throw new Error('message is in a file');
    return this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks, this.#size);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const pending = this.add(...chunks.map((c) => c.chunk));
    if (pending) pending.then(() => cb(), cb);
    else cb();
  }

  /**
   * Takes bytes without the Writable machinery (the SMTP service feeds DATA straight in): undefined
   * when they were kept in memory, else the file write to wait for before adding more. Use either
   * this or the stream interface on one sink, not both.
   */
  add(...bufs: Buffer[]): Promise<void> | undefined {
    let incoming = 0;
    for (const b of bufs) incoming += b.length;
    if (!this.#opened && this.#size + incoming <= this.threshold) {
      this.#chunks.push(...bufs);
      this.#size += incoming;
      return undefined;
    }
    return this.#toFile(bufs);
  }

  async #toFile(bufs: Buffer[]): Promise<void> {
    if (!this.#opened) {
      this.#opened = true;
      this.#fh = await this.openFile();
      bufs = [...this.#chunks, ...bufs];
      this.#chunks = [];
    }
    const r = await this.#fh!.writev(bufs, this.#pos);
    this.#pos += r.bytesWritten;
  }
}
