// What one does to messages: read/unread, flag, archive, delete (to Trash; destroyed only from
// Trash), move, Junk / Not junk ($junk/$notjunk keywords and a move, RFC 8621 §4.1.1, so the
// server's filter learns). Every action shows at once (optimistic) and can be undone.
import { h, toast, errorToast, ask } from './ui.js';

export class Actions {
  constructor(app) { this.app = app; }

  get state() { return this.app.state; }

  async set(update) {
    const r = await this.app.jmap.one('Email/set', { update });
    if (r.notUpdated && Object.keys(r.notUpdated).length) {
      const e = Object.values(r.notUpdated)[0];
      throw new Error(e.description || e.type);
    }
    return r;
  }

  // Applies patches locally first, then on the server; on failure the list is reloaded.
  async apply(ids, patch, label, undoPatch) {
    for (const id of ids) {
      const e = this.state.emails.get(id);
      if (!e) continue;
      for (const [path, v] of Object.entries(patch)) {
        const [top, key] = path.split('/');
        if (key === undefined) { e[top] = v; continue; }
        e[top] = Object.assign({}, e[top]);
        if (v === null) delete e[top][key]; else e[top][key] = v;
      }
    }
    this.app.list.render();
    try {
      await this.set(Object.fromEntries(ids.map((id) => [id, patch])));
      if (label) toast(label, undoPatch ? () => this.apply(ids, undoPatch, 'Undone') : null);
    } catch (e) { errorToast(e); this.app.list.refresh(); }
  }

  // Sets or clears one keyword without a toast (marking read on open).
  keyword(ids, kw, on) {
    return this.apply(ids, { ['keywords/' + kw]: on ? true : null }, null, null);
  }

  toggleRead(ids) {
    const allRead = ids.every((id) => (this.state.emails.get(id)?.keywords || {}).$seen);
    return this.apply(ids, { 'keywords/$seen': allRead ? null : true }, allRead ? 'Marked unread' : 'Marked read',
      { 'keywords/$seen': allRead ? true : null });
  }

  toggleFlag(ids) {
    const all = ids.every((id) => (this.state.emails.get(id)?.keywords || {}).$flagged);
    return this.apply(ids, { 'keywords/$flagged': all ? null : true }, all ? 'Unflagged' : 'Flagged',
      { 'keywords/$flagged': all ? true : null });
  }

  // The messages a conversation action applies to: every message of the conversations behind
  // these ids that is in the mailbox being looked at (a reply in Sent stays in Sent when the
  // conversation is archived from the Inbox); in a search, the messages listed.
  async members(ids) {
    // The mailbox looked at when the action started, not after the round trip.
    const here = this.app.route.mailbox;
    const threads = new Set(ids.map((id) => (this.state.emails.get(id) || {}).threadId).filter(Boolean));
    const r = await this.app.jmap.call([
      ['Thread/get', { ids: [...threads] }, 't'],
      ['Email/get', { '#ids': { resultOf: 't', name: 'Thread/get', path: '/list/*/emailIds' }, properties: ['threadId', 'mailboxIds', 'keywords'] }, 'e']
    ]);
    this.state.remember(r.e.list);
    return r.e.list.filter((e) => (here ? e.mailboxIds[here] : ids.includes(e.id)));
  }

  // Moves out of the mailbox being looked at into `to` (RFC 8621 §4.6 patches, so other
  // mailboxes a message is in are kept); undo reverses exactly that.
  async move(ids, to, label, extra) {
    const here = this.app.route.mailbox;
    this.app.list.drop(ids);
    if (this.app.route.thread) history.back();
    try {
      const list = await this.members(ids);
      const update = {}, undo = {};
      for (const e of list) {
        const p = Object.assign({}, extra || {}), back = {};
        if (here && here !== to) { p['mailboxIds/' + here] = null; back['mailboxIds/' + here] = true; }
        if (!here) { p.mailboxIds = { [to]: true }; back.mailboxIds = e.mailboxIds; }
        else { p['mailboxIds/' + to] = true; if (!e.mailboxIds[to]) back['mailboxIds/' + to] = null; }
        update[e.id] = p;
        undo[e.id] = back;
      }
      await this.set(update);
      const name = this.app.mailboxes.label(this.state.mailboxes.get(to) || { name: 'folder' });
      toast(label || 'Moved to ' + name, async () => {
        try { await this.set(undo); this.app.list.refresh(); } catch (e) { errorToast(e); }
      });
    } catch (e) { errorToast(e); }
    this.app.list.refresh();
  }

  archive(ids) {
    const a = this.state.role('archive');
    if (a) return this.move(ids, a.id, 'Archived');
    toast('There is no Archive folder.');
  }

  async remove(ids) {
    const trash = this.state.role('trash');
    if (trash && this.app.route.mailbox !== trash.id) return this.move(ids, trash.id, 'Moved to Trash');
    ids = (await this.members(ids)).map((e) => e.id);
    if (!confirm('Delete ' + ids.length + ' message(s) for ever?')) return;
    this.app.list.drop(ids);
    try { await this.app.jmap.one('Email/set', { destroy: ids }); toast('Deleted for ever'); } catch (e) { errorToast(e); }
    if (this.app.route.thread) history.back();
  }

  junk(ids, isJunk) {
    const target = isJunk ? this.state.role('junk') : this.state.role('inbox');
    if (!target) return toast('There is no ' + (isJunk ? 'Junk' : 'Inbox') + ' folder.');
    const kw = isJunk ? { 'keywords/$junk': true, 'keywords/$notjunk': null } : { 'keywords/$notjunk': true, 'keywords/$junk': null };
    return this.move(ids, target.id, isJunk ? 'Marked as junk' : 'Not junk: moved to Inbox', kw);
  }

  async emptyTrash() {
    const trash = this.state.role('trash');
    if (!trash || !confirm('Delete every message in Trash for ever?')) return;
    try {
      for (let i = 0; i < 100; i++) {
        const q = await this.app.jmap.one('Email/query', { filter: { inMailbox: trash.id }, limit: 500 });
        if (!q.ids.length) break;
        await this.app.jmap.one('Email/set', { destroy: q.ids });
      }
      toast('Trash emptied');
      this.app.list.refresh();
    } catch (e) { errorToast(e); }
  }

  async moveAsk(ids) {
    const opts = [...this.state.mailboxes.values()].map((m) => [m.id, this.app.mailboxes.label(m)]);
    const v = await ask('Move to', [{ name: 'to', label: 'Folder', type: 'select', options: opts }], 'Move');
    if (v) this.move(ids, v.to);
  }

  // The toolbar for a selection or an open conversation.
  bar(ids, inReader) {
    const route = this.app.route, junk = this.state.role('junk');
    const inJunk = junk && route.mailbox === junk.id;
    const b = (label, key, fn, cls) => h('button', { type: 'button', class: cls || null, title: label + (key ? ' (' + key + ')' : ''), onclick: () => fn(ids) }, label);
    return h('div', { class: 'bar', role: 'toolbar', 'aria-label': inReader ? 'Conversation actions' : 'Selection actions' },
      b('Archive', 'e', (x) => this.archive(x)),
      b('Delete', '#', (x) => this.remove(x)),
      inJunk ? b('Not junk', null, (x) => this.junk(x, false)) : b('Junk', '!', (x) => this.junk(x, true)),
      b('Move', 'v', (x) => this.moveAsk(x)),
      b('Read/Unread', 'u', (x) => this.toggleRead(x)),
      b('Flag', 's', (x) => this.toggleFlag(x)));
  }
}
