// What the browser scripts share: Debian's Chromium with the flags this machine's closed
// network needs, and one raw SMTP delivery (RFC 5321) as another server would make it.
import net from 'node:net';

export const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];

// Delivers `data` to `hostPort` ("host:port"); resolves with the last reply, rejects on a refusal.
export function smtp(hostPort, from, to, data) {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), host);
    const steps = ['EHLO test.example', `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA',
      data.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..') + '\r\n.', 'QUIT'];
    let buf = '', i = 0, last = '';
    s.on('data', (d) => {
      buf += d.toString();
      const lines = buf.split('\r\n');
      buf = lines.pop();
      for (const l of lines) {
        if (l[3] === '-') continue;
        last = l;
        if (!/^[23]/.test(l)) { s.destroy(); reject(new Error(`SMTP refused: ${l}`)); return; }
        if (i < steps.length) s.write(steps[i++] + '\r\n'); else s.end();
      }
    });
    s.on('close', () => resolve(last));
    s.on('error', reject);
  });
}
