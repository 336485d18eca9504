// What the app knows of the account: mailboxes, identities, and a cache of emails, kept fresh
// by push (the event source) and /changes (RFC 8620 §5.2) after a reconnect or a sleep.
// Views subscribe with on(); they never call the server for state they can read here.
export class State {
  constructor(jmap) {
    this.jmap = jmap;
    this.mailboxes = new Map();
    this.identities = [];
    this.emails = new Map();
    this.emailState = null;
    this.mailboxState = null;
    this.listeners = new Set();
  }

  on(fn) { this.listeners.add(fn); }
  emit(what) { for (const fn of this.listeners) fn(what); }

  async load() {
    const r = await this.jmap.call([
      ['Mailbox/get', {}, 'm'],
      ['Identity/get', {}, 'i'],
      ['Email/get', { ids: [] }, 'e']
    ]);
    this.setMailboxes(r.m.list);
    this.mailboxState = r.m.state;
    this.identities = r.i.list;
    this.emailState = r.e.state;
  }

  setMailboxes(list) {
    this.mailboxes = new Map(list.map((m) => [m.id, m]));
  }

  role(role) {
    for (const m of this.mailboxes.values()) if (m.role === role) return m;
    return null;
  }

  async refreshMailboxes() {
    const r = await this.jmap.one('Mailbox/get', {});
    this.setMailboxes(r.list);
    this.mailboxState = r.state;
    this.emit('mailboxes');
  }

  // Caches emails from an Email/get.
  remember(list) {
    for (const e of list) this.emails.set(e.id, Object.assign(this.emails.get(e.id) || {}, e));
  }

  // Push said something changed: catch up with /changes where we have a state, else reload.
  async changed(types) {
    if (types.Mailbox || types.Email) await this.refreshMailboxes();
    if (types.Email) await this.emailChanges();
    if (types.Identity) {
      this.identities = (await this.jmap.one('Identity/get', {})).list;
    }
  }

  async emailChanges() {
    let more = true, changed = [], destroyed = [];
    for (let i = 0; more && i < 20; i++) {
      let r;
      try {
        r = await this.jmap.one('Email/changes', { sinceState: this.emailState, maxChanges: 500 });
      } catch (e) {
        // cannotCalculateChanges: too old; start afresh.
        this.emails.clear();
        this.emailState = (await this.jmap.one('Email/get', { ids: [] })).state;
        this.emit('emails');
        return;
      }
      changed = changed.concat(r.created, r.updated);
      destroyed = destroyed.concat(r.destroyed);
      this.emailState = r.newState;
      more = r.hasMoreChanges;
    }
    for (const id of destroyed) this.emails.delete(id);
    const cached = changed.filter((id) => this.emails.has(id));
    if (cached.length) {
      const r = await this.jmap.one('Email/get', { ids: cached, properties: ['keywords', 'mailboxIds'] });
      this.remember(r.list);
    }
    this.emit({ emails: changed, destroyed });
  }
}
