// Writing: new, reply, reply-all, forward (with the original's attachments, by blob
// reference), identity and signature, attachments by picker or drag-and-drop with upload
// progress, the draft saved as one types (Email/set, RFC 8621 §4.6), and sending through
// EmailSubmission (§7.5) with a short "undo send": the submission is only made when the undo
// window has passed, and the draft moves to Sent when it succeeds.
import { h, fullAddr, longDate, toast, errorToast, size } from './ui.js';

const UNDO_SECONDS = 5;
const SAVE_AFTER_MS = 1500;

// "Anna <a@x>, b@y" -> [{name, email}]
export function parseAddrs(text) {
  const out = [];
  for (const part of text.split(/[,;]\s*(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
    const s = part.trim();
    if (!s) continue;
    const m = /^(.*?)\s*<([^>]+)>$/.exec(s);
    if (m) out.push({ name: m[1].replace(/^"|"$/g, '').trim() || null, email: m[2].trim() });
    else out.push({ name: null, email: s });
  }
  return out;
}

function quote(e, text) {
  const who = (e.from || []).map(fullAddr).join(', ');
  return '\n\nOn ' + longDate(e.sentAt || e.receivedAt) + ', ' + who + ' wrote:\n' +
    text.split('\n').map((l) => '> ' + l).join('\n');
}

// The text of a message for quoting; an HTML-only part is reduced to its text (DOMParser
// documents run no script and load nothing).
function bodyText(e) {
  return (e.textBody || []).map((p) => {
    const v = (e.bodyValues && e.bodyValues[p.partId] || {}).value || '';
    return p.type === 'text/html' ? new DOMParser().parseFromString(v, 'text/html').body.textContent : v;
  }).join('\n\n');
}

export class Compose {
  constructor(app) {
    this.app = app;
    this.el = document.getElementById('compose');
  }

  open(init) {
    const st = this.app.state;
    const ids = st.identities;
    const me = this.app.user.toLowerCase();
    this.draftId = init.draftId || null;
    this.files = (init.attachments || []).map((a) => ({ blobId: a.blobId, type: a.type, name: a.name, size: a.size, done: true }));
    this.reply = init.reply || null;
    const idSel = h('select', { name: 'identity', 'aria-label': 'From' },
      ids.map((i) => h('option', { value: i.id, selected: i.email.toLowerCase() === me }, fullAddr({ name: i.name, email: i.email }))));
    const field = (name, label, value, attrs) => h('label', { class: 'field' }, h('span', null, label),
      h('input', Object.assign({ name, value: value || '', autocomplete: 'off' }, attrs || {})));
    const sig = (ids.find((i) => i.email.toLowerCase() === me) || ids[0] || {}).textSignature;
    const text = (init.body || '') + (sig && !init.draftId ? '\n\n-- \n' + sig : '');
    const form = h('form', { class: 'compose', 'aria-label': 'Write a message' },
      h('header', null, h('h2', null, init.title || 'New message'),
        h('button', { type: 'button', class: 'link', 'aria-label': 'Close', onclick: () => this.close(true) }, '✕')),
      h('label', { class: 'field' }, h('span', null, 'From'), idSel),
      field('to', 'To', init.to, { type: 'text', 'aria-label': 'To' }),
      field('cc', 'Cc', init.cc), field('bcc', 'Bcc', init.bcc),
      field('subject', 'Subject', init.subject, { 'aria-label': 'Subject' }),
      h('textarea', { name: 'body', 'aria-label': 'Message', rows: '14' }),
      h('ul', { class: 'files' }),
      h('footer', null,
        h('button', { type: 'submit', class: 'primary' }, 'Send'),
        h('label', { class: 'button' }, 'Attach…', h('input', { type: 'file', multiple: true, hidden: true, name: 'pick' })),
        h('span', { class: 'status muted', 'aria-live': 'polite' })));
    form.elements.body.value = text;
    form.addEventListener('input', () => this.dirty());
    form.elements.pick.addEventListener('change', (ev) => { for (const f of ev.target.files) this.attach(f); ev.target.value = ''; });
    form.addEventListener('dragover', (ev) => { ev.preventDefault(); form.classList.add('drop'); });
    form.addEventListener('dragleave', () => form.classList.remove('drop'));
    form.addEventListener('drop', (ev) => {
      ev.preventDefault(); form.classList.remove('drop');
      for (const f of ev.dataTransfer.files) this.attach(f);
    });
    form.addEventListener('submit', (ev) => { ev.preventDefault(); this.send(); });
    this.form = form;
    this.el.replaceChildren(form);
    this.el.hidden = false;
    this.renderFiles();
    (init.to ? form.elements.body : form.elements.to).focus();
    if (init.to) form.elements.body.setSelectionRange(0, 0);
  }

  close(save) {
    clearTimeout(this.timer);
    const p = save && this.pending ? this.save() : Promise.resolve();
    this.el.hidden = true;
    this.el.replaceChildren();
    return p;
  }

  dirty() {
    this.pending = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), SAVE_AFTER_MS);
  }

  status(t) { const s = this.form && this.form.querySelector('.status'); if (s) s.textContent = t; }

  renderFiles() {
    const ul = this.form.querySelector('.files');
    ul.replaceChildren(...this.files.map((f, i) => h('li', null, h('span', { class: 'clip', 'aria-hidden': 'true' }), f.name + ' ',
      f.done ? h('span', { class: 'muted' }, size(f.size)) : h('progress', { max: '1', value: String(f.progress || 0), 'aria-label': 'Uploading ' + f.name }),
      h('button', { type: 'button', class: 'link', 'aria-label': 'Remove ' + f.name, onclick: () => { this.files.splice(i, 1); this.renderFiles(); this.dirty(); } }, '✕'))));
  }

  async attach(file) {
    const f = { name: file.name, type: file.type || 'application/octet-stream', size: file.size, progress: 0, done: false };
    this.files.push(f);
    this.renderFiles();
    try {
      const r = await this.app.jmap.upload(file, (p) => { f.progress = p; this.renderFiles(); });
      Object.assign(f, { blobId: r.blobId, done: true });
    } catch (e) {
      this.files.splice(this.files.indexOf(f), 1);
      errorToast(e);
    }
    if (this.form) { this.renderFiles(); this.dirty(); }
  }

  // The Email/set create arguments for what the form says now.
  email() {
    const f = this.form.elements, st = this.app.state;
    const ident = st.identities.find((i) => i.id === f.identity.value) || st.identities[0];
    const drafts = st.role('drafts');
    const e = {
      mailboxIds: drafts ? { [drafts.id]: true } : {},
      keywords: { $draft: true, $seen: true },
      from: ident ? [{ name: ident.name || null, email: ident.email }] : undefined,
      to: parseAddrs(f.to.value), cc: parseAddrs(f.cc.value), bcc: parseAddrs(f.bcc.value),
      subject: f.subject.value,
      bodyValues: { b: { value: f.body.value } },
      textBody: [{ partId: 'b', type: 'text/plain' }],
      attachments: this.files.filter((x) => x.done).map((x) => ({ blobId: x.blobId, type: x.type, name: x.name, disposition: 'attachment' }))
    };
    if (ident && ident.replyTo) e.replyTo = ident.replyTo;
    if (this.reply) { e.inReplyTo = this.reply.inReplyTo; e.references = this.reply.references; }
    return { e, ident };
  }

  // Saves the draft: the new version created and the old one destroyed in one request.
  async save() {
    if (!this.form) return null;
    this.pending = false;
    const { e } = this.email();
    try {
      const r = await this.app.jmap.one('Email/set', { create: { d: e }, destroy: this.draftId ? [this.draftId] : [] });
      if (r.created && r.created.d) { this.draftId = r.created.d.id; this.status('Draft saved'); }
      else this.status('Draft not saved: ' + JSON.stringify(r.notCreated && r.notCreated.d));
    } catch (err) { this.status('Draft not saved: ' + err.message); }
    return this.draftId;
  }

  send() {
    const { e, ident } = this.email();
    if (!e.to.length && !e.cc.length && !e.bcc.length) { this.status('Add a recipient.'); return; }
    if (!ident) { this.status('No identity to send from.'); return; }
    const snapshot = { to: this.form.elements.to.value, cc: this.form.elements.cc.value, bcc: this.form.elements.bcc.value, subject: e.subject, body: e.bodyValues.b.value, attachments: this.files.slice(), reply: this.reply, draftId: this.draftId };
    clearTimeout(this.timer);
    this.el.hidden = true;
    this.form = null;
    let cancelled = false;
    const timer = setTimeout(() => { if (!cancelled) this.submit(e, ident, snapshot.draftId, snapshot); }, UNDO_SECONDS * 1000);
    toast('Sending…', () => {
      cancelled = true;
      clearTimeout(timer);
      this.open(Object.assign({ title: 'New message' }, snapshot));
      toast('Sending undone');
    }, UNDO_SECONDS * 1000);
  }

  async submit(e, ident, oldDraft, snapshot) {
    const st = this.app.state, drafts = st.role('drafts'), sent = st.role('sent');
    const onSuccess = { 'keywords/$draft': null };
    if (drafts) onSuccess['mailboxIds/' + drafts.id] = null;
    if (sent) onSuccess['mailboxIds/' + sent.id] = true;
    try {
      const r = await this.app.jmap.call([
        ['Email/set', { create: { m: e }, destroy: oldDraft ? [oldDraft] : [] }, 'e'],
        ['EmailSubmission/set', { create: { s: { identityId: ident.id, emailId: '#m' } }, onSuccessUpdateEmail: { '#s': onSuccess } }, 's']
      ]);
      const notSent = (r.s.notCreated || {}).s || (r.e.notCreated || {}).m;
      if (notSent) throw new Error(notSent.description || notSent.type);
      toast('Sent');
      this.app.list.refresh();
    } catch (err) {
      toast('Not sent: ' + err.message, () => this.open(snapshot));
    }
  }

  reply(e, all) {
    const me = new Set(this.app.state.identities.map((i) => i.email.toLowerCase()));
    me.add(this.app.user.toLowerCase());
    const to = (e.replyTo && e.replyTo.length ? e.replyTo : e.from) || [];
    let cc = [];
    if (all) cc = (e.to || []).concat(e.cc || []).filter((a) => !me.has(a.email.toLowerCase()) && !to.some((t) => t.email === a.email));
    const subject = /^re:/i.test(e.subject || '') ? e.subject : 'Re: ' + (e.subject || '');
    this.open({
      title: all ? 'Reply all' : 'Reply', to: to.map(fullAddr).join(', '), cc: cc.map(fullAddr).join(', '),
      subject, body: quote(e, bodyText(e)),
      reply: { inReplyTo: e.messageId || null, references: (e.references || []).concat(e.messageId || []) }
    });
  }

  forward(e) {
    const subject = /^fwd?:/i.test(e.subject || '') ? e.subject : 'Fwd: ' + (e.subject || '');
    const head = '\n\n---------- Forwarded message ----------\nFrom: ' + (e.from || []).map(fullAddr).join(', ') +
      '\nDate: ' + longDate(e.sentAt || e.receivedAt) + '\nSubject: ' + (e.subject || '') +
      '\nTo: ' + (e.to || []).map(fullAddr).join(', ') + '\n\n';
    this.open({ title: 'Forward', subject, body: head + bodyText(e), attachments: (e.attachments || []).filter((a) => a.blobId) });
  }
}
