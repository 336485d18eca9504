// Settings: the vacation response (RFC 8621 §8), identities (name, reply-to, signature; §6)
// and the password (the one thing JMAP has no method for: POST /webmail/password).
import { h, toast, errorToast } from './ui.js';
import { parseAddrs } from './compose.js';

export class Settings {
  constructor(app) {
    this.app = app;
    this.el = document.getElementById('reader');
  }

  async show() {
    const jmap = this.app.jmap;
    const parts = [h('header', { class: 'thread-head' },
      h('button', { type: 'button', class: 'back', 'aria-label': 'Back', onclick: () => history.back() }, '←'),
      h('h1', null, 'Settings'))];
    if (jmap.using.includes('urn:ietf:params:jmap:vacationresponse')) {
      const v = (await jmap.one('VacationResponse/get', { ids: ['singleton'] })).list[0] || {};
      const f = h('form', { class: 'card', id: 'vacation' }, h('h2', null, 'Vacation response'),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'on', checked: !!v.isEnabled }), ' Answer mail automatically'),
        h('label', null, 'From', h('input', { type: 'date', name: 'from', value: (v.fromDate || '').slice(0, 10) })),
        h('label', null, 'Until', h('input', { type: 'date', name: 'to', value: (v.toDate || '').slice(0, 10) })),
        h('label', null, 'Subject', h('input', { name: 'subject', value: v.subject || '' })),
        h('label', null, 'Message', h('textarea', { name: 'text', rows: '5' })),
        h('button', { type: 'submit', class: 'primary' }, 'Save'));
      f.elements.text.value = v.textBody || '';
      f.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const e = f.elements;
        const day = (d, end) => (d ? d + (end ? 'T23:59:59Z' : 'T00:00:00Z') : null);
        try {
          const r = await jmap.one('VacationResponse/set', { update: { singleton: {
            isEnabled: e.on.checked, fromDate: day(e.from.value), toDate: day(e.to.value, true),
            subject: e.subject.value || null, textBody: e.text.value || null
          } } });
          if (r.notUpdated) throw new Error(JSON.stringify(r.notUpdated.singleton));
          toast('Vacation response saved');
        } catch (err) { errorToast(err); }
      });
      parts.push(f);
    }
    for (const id of this.app.state.identities) {
      const f = h('form', { class: 'card identity' }, h('h2', null, 'Identity: ' + id.email),
        h('label', null, 'Name', h('input', { name: 'name', value: id.name || '' })),
        h('label', null, 'Reply-To', h('input', { name: 'replyTo', value: (id.replyTo || []).map((a) => a.email).join(', ') })),
        h('label', null, 'Signature', h('textarea', { name: 'sig', rows: '3' })),
        h('button', { type: 'submit', class: 'primary' }, 'Save'));
      f.elements.sig.value = id.textSignature || '';
      f.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const e = f.elements, rt = parseAddrs(e.replyTo.value);
        try {
          const r = await jmap.one('Identity/set', { update: { [id.id]: { name: e.name.value, textSignature: e.sig.value, replyTo: rt.length ? rt : null } } });
          if (r.notUpdated) throw new Error(JSON.stringify(r.notUpdated[id.id]));
          this.app.state.identities = (await jmap.one('Identity/get', {})).list;
          toast('Identity saved');
        } catch (err) { errorToast(err); }
      });
      parts.push(f);
    }
    const pw = h('form', { class: 'card', id: 'password' }, h('h2', null, 'Password'),
      h('label', null, 'Current password', h('input', { type: 'password', name: 'current', autocomplete: 'current-password', required: true })),
      h('label', null, 'New password (at least 8 characters)', h('input', { type: 'password', name: 'new', autocomplete: 'new-password', minlength: '8', required: true })),
      h('button', { type: 'submit', class: 'primary' }, 'Change password'));
    pw.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const r = await fetch('/webmail/password', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': jmap.csrf },
        body: JSON.stringify({ current: pw.elements.current.value, new: pw.elements.new.value })
      });
      if (r.ok) { pw.reset(); toast('Password changed; other devices must sign in again'); }
      else { const j = await r.json().catch(() => ({})); toast('Not changed: ' + (j.detail || r.status)); }
    });
    parts.push(pw, h('p', { class: 'muted pad' }, 'Keyboard: press ? for shortcuts.'));
    this.el.replaceChildren(...parts);
  }
}
