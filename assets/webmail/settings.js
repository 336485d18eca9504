// Settings: the vacation response (RFC 8621 §8), identities (name, reply-to, signature; §6)
// and the password (the one thing JMAP has no method for: POST /webmail/password).
import { h, toast, errorToast } from './ui.js';
import { parseAddrs } from './compose.js';

const b64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromB64url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

export class Settings {
  constructor(app) {
    this.app = app;
    this.el = document.getElementById('reader');
  }

  // New-mail notifications through Web Push: the browser's push subscription (with our VAPID
  // key) becomes a JMAP PushSubscription (RFC 8620 §7.2); the service worker (sw.js) hands the
  // server's verification code back to this page, which confirms it (app.js).
  notifications() {
    const card = h('div', { class: 'card' }, h('h2', null, 'Notifications'));
    if (!('serviceWorker' in navigator) || !('PushManager' in window)) {
      card.append(h('p', { class: 'muted' }, 'This browser cannot show notifications for new mail.'));
      return card;
    }
    const status = h('p', { class: 'muted', 'aria-live': 'polite' });
    card.append(h('p', null, 'Get a notification when new mail arrives, even with this page closed.'),
      h('button', { type: 'button', onclick: () => this.subscribe(status) }, 'Notify me of new mail'), status);
    return card;
  }

  async subscribe(status) {
    try {
      if ((await Notification.requestPermission()) !== 'granted') { status.textContent = 'Notifications are blocked for this site.'; return; }
      const key = await (await fetch('/webmail/push-key', { credentials: 'same-origin' })).json();
      const reg = await navigator.serviceWorker.ready;
      const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromB64url(key.publicKey) });
      const r = await this.app.jmap.one('PushSubscription/set', { create: { p: {
        deviceClientId: 'webmail-' + b64url(crypto.getRandomValues(new Uint8Array(12))), url: sub.endpoint,
        keys: { p256dh: b64url(sub.getKey('p256dh')), auth: b64url(sub.getKey('auth')) }, types: ['Email', 'EmailDelivery']
      } } });
      if (!r.created || !r.created.p) throw new Error(JSON.stringify(r.notCreated));
      status.textContent = 'Waiting for the push service to confirm…';
    } catch (e) { status.textContent = 'Not available: ' + e.message; }
  }

  async show() {
    const jmap = this.app.jmap;
    // The pane is the reader's: if a conversation was opened while this loaded, it stays.
    const asked = this.app.reader.asked;
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
    parts.push(pw, this.notifications(), h('p', { class: 'muted pad' }, 'Keyboard: press ? for shortcuts.'));
    if (asked === this.app.reader.asked) this.el.replaceChildren(...parts);
  }
}
