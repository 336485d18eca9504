// Reading a conversation: every message of the thread (Thread/get + Email/get with body
// values), plain text with links made clickable, HTML in a sandboxed frame (sanitize.js and the
// frame's CSP), inline cid: images, attachments with size and download, and a small mark from
// the Authentication-Results header the server added (RFC 8601).
import { h, addrs, fullAddr, longDate, size, linkify, toast } from './ui.js';
import { sanitize } from './sanitize.js';

const PROPS = ['threadId', 'mailboxIds', 'keywords', 'from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'sentAt',
  'receivedAt', 'messageId', 'inReplyTo', 'references', 'textBody', 'htmlBody', 'attachments', 'bodyValues',
  'preview', 'hasAttachment', 'header:Authentication-Results:asText'];
const INLINE_IMAGE_MAX = 5 * 1024 * 1024;

// The verdict of our own Authentication-Results (the first one, added by this server).
function authMark(e) {
  const ar = e['header:Authentication-Results:asText'];
  if (!ar) return null;
  const dmarc = /dmarc=(\w+)/i.exec(ar), dkim = /dkim=(\w+)/i.exec(ar), spf = /spf=(\w+)/i.exec(ar);
  if (dmarc && dmarc[1] === 'pass') return h('span', { class: 'auth ok', title: ar }, '✔ verified sender');
  if ((dmarc && dmarc[1] === 'fail') || (!dkim && spf && spf[1] === 'fail')) {
    return h('span', { class: 'auth bad', title: ar }, '⚠ sender not verified');
  }
  return null;
}

function remoteAllowed(e) {
  const from = (e.from && e.from[0] && e.from[0].email) || '';
  return localStorage.getItem('remote:' + from.toLowerCase()) === '1' || sessionStorage.getItem('remote-msg:' + e.id) === '1';
}

export class Reader {
  constructor(app) {
    this.app = app;
    this.el = document.getElementById('reader');
    this.thread = null;
    this.emails = [];
  }

  // Something else takes the pane: any reading still on its way is dropped.
  forget() { this.asked = (this.asked || 0) + 1; }

  clear() {
    this.forget();
    this.el.replaceChildren(h('p', { class: 'muted pad empty' }, 'Select a conversation to read it.'));
  }

  async show(threadId, focusId) {
    // Stepping through conversations quickly (j, k) leaves earlier requests out: only the last
    // one asked for is drawn and marked read.
    this.forget();
    const asked = this.asked;
    this.el.replaceChildren(h('p', { class: 'muted pad' }, 'Loading…'));
    const r = await this.app.jmap.call([
      ['Thread/get', { ids: [threadId] }, 't'],
      ['Email/get', {
        '#ids': { resultOf: 't', name: 'Thread/get', path: '/list/*/emailIds' }, properties: PROPS,
        fetchTextBodyValues: true, fetchHTMLBodyValues: true, maxBodyValueBytes: 2000000
      }, 'e']
    ]);
    if (asked !== this.asked) return;
    this.thread = threadId;
    const trash = this.app.state.role('trash');
    const inTrash = this.app.route.mailbox && trash && this.app.route.mailbox === trash.id;
    // Outside Trash, messages in Trash are left out of the conversation (as most clients do).
    this.emails = r.e.list.filter((e) => inTrash || !trash || !e.mailboxIds[trash.id] || r.e.list.every((x) => x.mailboxIds[trash.id]));
    this.app.state.remember(this.emails);
    this.render(focusId);
    const unread = this.emails.filter((e) => !(e.keywords || {}).$seen).map((e) => e.id);
    if (unread.length) this.app.actions.keyword(unread, '$seen', true, true);
  }

  render(focusId) {
    const last = this.emails[this.emails.length - 1];
    if (!last) { this.el.replaceChildren(h('p', { class: 'muted pad' }, 'This conversation is empty.')); return; }
    const head = h('header', { class: 'thread-head' },
      h('button', { type: 'button', class: 'back', 'aria-label': 'Back to the list', onclick: () => history.back() }, '←'),
      h('h1', null, last.subject || '(no subject)'),
      this.app.actions.bar(this.emails.map((e) => e.id), true));
    const msgs = this.emails.map((e, i) => this.message(e, i === this.emails.length - 1 || e.id === focusId));
    this.el.replaceChildren(head, ...msgs);
    this.el.scrollTop = 0;
    const focus = this.el.querySelector('article.open:last-of-type');
    if (focus && this.emails.length > 1) focus.scrollIntoView({ block: 'start' });
  }

  message(e, open) {
    const art = h('article', { class: open ? 'msg open' : 'msg', 'data-id': e.id, tabindex: '-1' });
    const from = (e.from || []).map(fullAddr).join(', ');
    const summary = h('div', { class: 'msg-head', onclick: () => { art.classList.toggle('open'); if (art.classList.contains('open')) this.body(e, art); } },
      h('strong', { class: 'who' }, from || '(unknown sender)'), authMark(e),
      h('span', { class: 'to muted' }, 'to ' + addrs((e.to || []).concat(e.cc || []))),
      h('time', { datetime: e.sentAt || e.receivedAt, class: 'muted' }, longDate(e.sentAt || e.receivedAt)),
      h('span', { class: 'preview muted' }, e.preview || ''));
    art.append(summary, h('div', { class: 'msg-body' }),
      h('div', { class: 'msg-actions' },
        (e.keywords || {}).$draft ? h('button', { type: 'button', class: 'primary', onclick: () => this.app.compose.edit(e) }, 'Edit draft') : null,
        h('button', { type: 'button', onclick: () => this.app.compose.reply(e, false) }, 'Reply'),
        h('button', { type: 'button', onclick: () => this.app.compose.reply(e, true) }, 'Reply all'),
        h('button', { type: 'button', onclick: () => this.app.compose.forward(e) }, 'Forward')));
    if (open) this.body(e, art);
    return art;
  }

  body(e, art) {
    const box = art.querySelector('.msg-body');
    if (box.dataset.done) return;
    box.dataset.done = '1';
    const html = (e.htmlBody || []).find((p) => p.type === 'text/html');
    if (html && e.bodyValues[html.partId]) {
      const slot = h('div', { class: 'frame-slot' });
      box.append(slot);
      this.frame(e, slot, e.bodyValues[html.partId].value);
    }
    else {
      const text = (e.textBody || []).map((p) => (e.bodyValues[p.partId] || {}).value || '').join('\n\n');
      box.append(h('div', { class: 'text' }, linkify(text)));
    }
    const files = (e.attachments || []).filter((a) => !(html && a.cid && a.disposition !== 'attachment'));
    if (files.length) {
      box.append(h('ul', { class: 'files', 'aria-label': 'Attachments' }, files.map((a) => h('li', null,
        h('a', { href: this.app.jmap.downloadUrl(a.blobId, a.name || 'attachment', a.type), download: a.name || 'attachment' },
          h('span', { class: 'clip', 'aria-hidden': 'true' }), a.name || 'attachment'), h('span', { class: 'muted' }, ' ' + size(a.size))))));
    }
  }

  // The HTML part in the sandboxed frame: no script, no form, no fetch from outside until the
  // reader allows it for this message or sender.
  async frame(e, box, source) {
    const remote = remoteAllowed(e);
    const cids = new Map();
    let budget = INLINE_IMAGE_MAX;
    for (const a of e.attachments || []) {
      if (!a.cid || !/^image\//.test(a.type) || a.size > budget) continue;
      budget -= a.size;
      try {
        const r = await fetch(this.app.jmap.downloadUrl(a.blobId, a.name || 'image', a.type), { credentials: 'same-origin' });
        const blob = await r.blob();
        const url = await new Promise((res) => { const fr = new FileReader(); fr.onload = () => res(fr.result); fr.readAsDataURL(blob); });
        cids.set(a.cid.replace(/^<|>$/g, ''), url);
      } catch (err) { /* the image stays out */ }
    }
    const iframe = h('iframe', {
      class: 'html', title: 'Message', sandbox: 'allow-same-origin allow-popups allow-popups-to-escape-sandbox',
      src: '/webmail/frame' + (remote ? '?remote=1' : ''), referrerpolicy: 'no-referrer'
    });
    const shown = new Promise((resolve) => iframe.addEventListener('load', () => {
      const doc = iframe.contentDocument;
      if (!doc) { resolve(0); return; }
      const { html, blocked } = sanitize(source, { remote, cids, Parser: iframe.contentWindow.DOMParser });
      doc.documentElement.innerHTML = html;
      const fit = () => { iframe.style.height = Math.min(20000, doc.documentElement.scrollHeight + 16) + 'px'; };
      fit();
      for (const img of doc.images) img.addEventListener('load', fit);
      resolve(blocked);
    }, { once: true }));
    box.append(iframe);
    const blocked = await shown;
    if (blocked && !remote) {
      const from = (e.from && e.from[0] && e.from[0].email) || '';
      box.append(h('p', { class: 'remote-note' }, 'Remote content was blocked to protect your privacy. ',
        h('button', { type: 'button', class: 'link', onclick: () => { sessionStorage.setItem('remote-msg:' + e.id, '1'); this.reshow(e, box); } }, 'Show it'),
        from ? h('button', { type: 'button', class: 'link', onclick: () => { localStorage.setItem('remote:' + from.toLowerCase(), '1'); this.reshow(e, box); toast('Remote content allowed for ' + from); } }, 'Always for ' + from) : null));
      box.insertBefore(box.lastChild, iframe);
    }
  }

  reshow(e, slot) {
    const art = slot.closest('article'), box = art.querySelector('.msg-body');
    box.replaceChildren();
    delete box.dataset.done;
    this.body(e, art);
  }
}
