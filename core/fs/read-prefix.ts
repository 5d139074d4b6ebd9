import fs from 'node:fs';

/**
 * Synchronous open + read of up to `length` bytes from the start of `file` into `buf` + close; the
 * bytes read. For many small heads read in bounded slices (Maildir prefix reads, the IMAP head
 * worker): a thread-pool round trip per file costs more than the read.
 */
export function readPrefixSync(file: string, buf: Buffer, length: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const want = Math.min(length, buf.length);
    let got = 0;
    // Bounded: each read advances or ends at end of file.
    while (got < want) {
      const n = fs.readSync(fd, buf, got, want - got, got);
      if (n === 0) break;
      got += n;
    }
    return got;
  } finally {
    fs.closeSync(fd);
  }
}
