// CPU per file creation on a file system (a machine property every server in bench/ pays per file
// it creates before its 250): create + 4 KB write + close, N files, then the same right after
// deleting them. Not a test.  node bench/lib/create-cost.mjs [DIR on the file system] [N]
import fs from 'node:fs';
import path from 'node:path';

const root = fs.mkdtempSync(path.join(process.argv[2] ?? '/var/tmp', 'create-cost-'));
const n = Number(process.argv[3] ?? 3000);
const block = Buffer.alloc(4096, 120);
const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };
function round(tag) {
  const c = cpuUs();
  for (let i = 0; i < n; i++) {
    const fd = fs.openSync(path.join(root, `${tag}${i}`), 'wx', 0o600);
    fs.writeSync(fd, block);
    fs.closeSync(fd);
  }
  return (cpuUs() - c) / n;
}
const remove = (tag) => { for (let i = 0; i < n; i++) fs.unlinkSync(path.join(root, `${tag}${i}`)); };
try {
  const first = round('a');
  remove('a');
  const again = round('b');
  remove('b');
  console.log(`${root}: ${first.toFixed(1)} µs CPU per created file; ${again.toFixed(1)} µs right after deleting ${n}`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
