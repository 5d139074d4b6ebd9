'use strict'
// Pochta benchmark only (bench/smtp): a minimal, durable Haraka queue plugin.
//
// * lookup_rdns: answers "localhost" without DNS (this machine has no resolver;
//   Haraka's default is dns.reverse() on every connection).
// * rcpt: accepts recipients @bench.test (Haraka denies every recipient that no
//   plugin accepts).
// * queue: writes each message Maildir-style: open tmp/<name> (O_EXCL), stream
//   the message into it, fsync(file), close, rename into new/, fsync(new/),
//   and only then answers 250.  This is the same durability contract as
//   Postfix (queue file fsync'd before 250) and as Pochta's Maildir store.
//
// Loaded by Haraka inside a vm sandbox: OK/DENY are globals there.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

let seq = 0
const host = os.hostname().replace(/[/:]/g, '_')

exports.register = function () {
    const root = process.env.BENCH_HARAKA_MAILDIR
    if (!root) throw new Error('bench_maildir: BENCH_HARAKA_MAILDIR is not set')
    this.tmpDir = path.join(root, 'tmp')
    this.newDir = path.join(root, 'new')
    for (const d of [root, this.tmpDir, this.newDir, path.join(root, 'cur')]) fs.mkdirSync(d, { recursive: true })
    this.newDirFd = fs.openSync(this.newDir, 'r')
}

exports.hook_lookup_rdns = function (next) {
    next(OK, 'localhost')
}

exports.hook_rcpt = function (next, connection, params) {
    const rcpt = params[0]
    if (rcpt && String(rcpt.host).toLowerCase() === 'bench.test') return next(OK)
    next(DENY, 'no such user here')
}

exports.hook_queue = function (next, connection) {
    const txn = connection.transaction
    const name = `${Date.now()}.P${process.pid}Q${++seq}.${host}`
    const tmp = path.join(this.tmpDir, name)
    const fin = path.join(this.newDir, name)
    const fail = (err) => {
        connection.logerror(this, `bench_maildir: ${err.message}`)
        fs.unlink(tmp, () => next(DENYSOFT, 'bench_maildir: write failed'))
    }
    fs.open(tmp, 'wx', 0o600, (err, fd) => {
        if (err) return fail(err)
        const ws = fs.createWriteStream(null, { fd, autoClose: false })
        ws.on('error', (e) => fs.close(fd, () => fail(e)))
        ws.on('finish', () => {
            fs.fsync(fd, (e1) => {
                fs.close(fd, (e2) => {
                    if (e1 || e2) return fail(e1 || e2)
                    fs.rename(tmp, fin, (e3) => {
                        if (e3) return fail(e3)
                        fs.fsync(this.newDirFd, (e4) => {
                            if (e4) return fail(e4)
                            next(OK, `queued as ${name}`)
                        })
                    })
                })
            })
        })
        txn.message_stream.pipe(ws, { line_endings: '\n' })
    })
}

exports.shutdown = function () {
    if (this.newDirFd !== undefined) fs.closeSync(this.newDirFd)
}
