// A tiny SMTP server on loopback for the end-to-end tests: it speaks just enough SMTP for
// tokend's mailer (220/250/354/221) and writes every message it receives, as received, to
// a file in MAILDIR. It listens on a free port and writes that port to PORTFILE.
//
//   node smtp-sink.mjs MAILDIR PORTFILE

import net from 'node:net';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const [maildir, portfile] = process.argv.slice(2);
mkdirSync(maildir, { recursive: true });
let received = 0;

const server = net.createServer((socket) => {
  let buffer = '';
  let data = null; // the message's lines while inside DATA
  const reply = (line) => socket.write(`${line}\r\n`);
  reply('220 sink ESMTP ready');
  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let at;
    while ((at = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, at).replace(/\r$/, '');
      buffer = buffer.slice(at + 1);
      if (data) {
        if (line === '.') {
          received += 1;
          writeFileSync(path.join(maildir, `${String(received).padStart(4, '0')}.eml`), data.join('\n'));
          data = null;
          reply('250 OK queued');
        } else {
          data.push(line.startsWith('..') ? line.slice(1) : line);
        }
        continue;
      }
      const verb = line.split(' ')[0].toUpperCase();
      if (verb === 'EHLO') reply('250-sink greets you\r\n250 8BITMIME');
      else if (verb === 'DATA') { data = []; reply('354 end with <CRLF>.<CRLF>'); }
      else if (verb === 'QUIT') { reply('221 bye'); socket.end(); }
      else reply('250 OK');
    }
  });
  socket.on('error', () => {});
});

server.listen(0, '127.0.0.1', () => writeFileSync(portfile, String(server.address().port)));
