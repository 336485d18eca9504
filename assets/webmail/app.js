// The webmail's entry point: boots the JMAP client and state, routes (#/m/<mailbox>,
// #/t/<thread>/<email>, #/s/<search>, #/settings), keeps the views live from push, and owns the
// keyboard shortcuts. Views live in their own modules; this file only wires them.
import { Jmap } from './jmap.js';
import { State } from './state.js';
import { h, $, toast, errorToast } from './ui.js';
import { Mailboxes } from './mailboxes.js';
import { List } from './list.js';
import { Reader } from './reader.js';
import { Actions } from './actions.js';
import { Compose } from './compose.js';
import { Settings } from './settings.js';
import { parseSearch } from './search.js';

const KEYS = [['j / k', 'next / previous conversation'], ['o or Enter', 'open'], ['u or Esc', 'back to the list'],
  ['r', 'reply'], ['a', 'reply all'], ['f', 'forward'], ['e', 'archive'], ['#', 'delete'], ['!', 'junk'],
  ['s', 'flag'], ['c', 'write a message'], ['/', 'search'], ['?', 'this help']];

class App {
  constructor() {
    this.user = document.body.dataset.user;
    this.jmap = new Jmap(document.querySelector('meta[name=csrf]').content);
    this.state = new State(this.jmap);
    this.route = {};
  }

  async start() {
    await this.jmap.init();
    await this.state.load();
    this.actions = new Actions(this);
    this.mailboxes = new Mailboxes(this);
    this.list = new List(this);
    this.reader = new Reader(this);
    this.compose = new Compose(this);
    this.settings = new Settings(this);
    this.wire();
    window.addEventListener('hashchange', () => this.go().catch(errorToast));
    if (!location.hash) location.replace('#/m/' + (this.state.role('inbox') || this.state.mailboxes.values().next().value).id);
    else await this.go();
    this.live();
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('/sw.js').catch(() => {});
      // A push subscription's verification code (RFC 8620 §7.2.2), relayed by sw.js.
      navigator.serviceWorker.addEventListener('message', (ev) => {
        const v = ev.data;
        if (v && v['@type'] === 'PushVerification') {
          this.jmap.one('PushSubscription/set', { update: { [v.pushSubscriptionId]: { verificationCode: v.verificationCode } } })
            .then(() => toast('Notifications for new mail are on')).catch(errorToast);
        }
      });
    }
    document.body.classList.add('ready');
  }

  // Reads the hash and shows what it names.
  async go() {
    // A newer navigation supersedes this one: it stops drawing and leaves `shown` alone.
    const seq = this.goSeq = (this.goSeq || 0) + 1;
    const [, kind, a, b] = location.hash.split('/').map(decodeURIComponent);
    // The list shows the last mailbox or search; a conversation or the settings open over it.
    const mbox = this.state.mailboxes.get(a);
    if (kind === 'm') this.base = { mailbox: a, role: mbox && mbox.role };
    else if (kind === 's') this.base = { search: a };
    if (!this.base) {
      const inbox = this.state.role('inbox');
      this.base = { mailbox: inbox && inbox.id, role: 'inbox' };
    }
    this.route = Object.assign({}, this.base,
      kind === 't' ? { thread: a, email: b } : kind === 'settings' ? { settings: true } : {});
    document.body.classList.toggle('reading', !!(this.route.thread || this.route.settings));
    const listKey = JSON.stringify([this.route.mailbox, this.route.search]);
    if (listKey !== this.listKey || !this.list.filter) {
      this.listKey = listKey;
      const filter = this.route.search ? parseSearch(this.route.search, this.state.mailboxes) : { inMailbox: this.route.mailbox };
      $('#q').value = this.route.search || '';
      const m = this.state.mailboxes.get(this.route.mailbox);
      document.title = (this.route.search ? 'Search' : m ? this.mailboxes.label(m) : 'Mail') + ' · mailnook';
      this.mailboxes.render();
      await this.list.show(filter, this.route.search);
      if (seq !== this.goSeq) return;
    }
    if (this.route.thread) await this.reader.show(this.route.thread, this.route.email);
    else if (this.route.settings) { this.reader.forget(); await this.settings.show(); }
    else this.reader.clear();
    if (seq !== this.goSeq) return;
    // What is on screen now (tests and screen readers wait for it, not for a timer).
    document.body.dataset.shown = location.hash;
  }

  open(id) {
    const e = this.state.emails.get(id);
    if (e) location.hash = '#/t/' + e.threadId + '/' + id;
  }

  back() {
    if (this.route.thread || this.route.settings) history.back();
  }

  // Push: new mail and changes from other devices show without a reload; after a drop or a
  // sleep, /changes catches up (state.js).
  live() {
    let busy = false, again = false;
    const sync = async (types) => {
      if (busy) { again = true; return; }
      busy = true;
      try {
        await this.state.changed(types);
        await this.list.refresh();
      } catch (e) { /* the next push tries again */ }
      busy = false;
      if (again) { again = false; sync({ Email: true, Mailbox: true }); }
    };
    this.jmap.listen((changed) => sync(changed), () => sync({ Email: true, Mailbox: true }));
    document.addEventListener('visibilitychange', () => { if (!document.hidden) sync({ Email: true, Mailbox: true }); });
  }

  wire() {
    $('#search').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q = $('#q').value.trim();
      location.hash = q ? '#/s/' + encodeURIComponent(q) : '#/m/' + this.state.role('inbox').id;
    });
    $('#write').addEventListener('click', () => this.compose.open({}));
    $('#menu').addEventListener('click', () => document.body.classList.toggle('nav-open'));
    $('#mailboxes').addEventListener('click', (ev) => { if (ev.target.closest('a')) document.body.classList.remove('nav-open'); });
    $('#signout').addEventListener('click', async () => {
      await this.compose.close(true);
      await fetch('/webmail/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': this.jmap.csrf } });
      location.href = '/';
    });
    $('#list').addEventListener('click', (ev) => {
      const row = ev.target.closest('.row');
      if (row && !ev.target.closest('input')) this.list.cursor = this.list.ids.indexOf(row.dataset.id);
    });
    document.addEventListener('keydown', (ev) => this.key(ev));
  }

  key(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t.closest && t.closest('input, textarea, select, [contenteditable], dialog')) {
      if (ev.key === 'Escape' && t.blur) t.blur();
      return;
    }
    const reading = this.route.thread ? this.reader.emails : null;
    const cur = reading ? reading[reading.length - 1] : this.state.emails.get(this.list.current());
    const ids = reading ? reading.map((e) => e.id) : (this.list.selected.size ? [...this.list.selected] : cur ? [cur.id] : []);
    const act = {
      j: () => { this.list.step(1); if (reading) this.open(this.list.current()); },
      k: () => { this.list.step(-1); if (reading) this.open(this.list.current()); },
      o: () => cur && this.open(cur.id), Enter: () => !reading && cur && this.open(cur.id),
      u: () => this.back(), Escape: () => this.back(),
      r: () => reading && this.compose.reply(cur, false), a: () => reading && this.compose.reply(cur, true),
      f: () => reading && this.compose.forward(cur),
      e: () => ids.length && this.actions.archive(ids), '#': () => ids.length && this.actions.remove(ids),
      '!': () => ids.length && this.actions.junk(ids, true), s: () => ids.length && this.actions.toggleFlag(ids),
      c: () => this.compose.open({}), '/': () => $('#q').focus(), '?': () => this.help()
    }[ev.key];
    if (act) { ev.preventDefault(); act(); }
  }

  help() {
    const d = h('dialog', { class: 'modal', 'aria-label': 'Keyboard shortcuts' }, h('h2', null, 'Keyboard shortcuts'),
      h('dl', { class: 'keys' }, KEYS.map(([k, v]) => [h('dt', null, h('kbd', null, k)), h('dd', null, v)])),
      h('form', { method: 'dialog' }, h('button', { class: 'primary' }, 'Close')));
    d.addEventListener('close', () => d.remove());
    document.body.append(d);
    d.showModal();
  }
}

const app = new App();
window.mailnook = app;
app.start().catch((e) => { toast('Could not start: ' + e.message); });
