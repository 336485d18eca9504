// The message list: conversations newest first (Email/query with collapseThreads, RFC 8621
// §4.4), pages of 50 fetched as the reader scrolls, so 100,000 messages cost one page. Search
// results carry SearchSnippet highlights (§5), built from text nodes and <mark>, never HTML.
import { h, addr, shortDate } from './ui.js';

const PAGE = 50;
const PROPS = ['threadId', 'mailboxIds', 'keywords', 'from', 'to', 'subject', 'receivedAt', 'preview', 'hasAttachment'];

// "<mark>x</mark> y" as DOM: the snippet's only markup is <mark> (RFC 8621 §5.1); everything
// else is text, whatever the message said.
function marked(snippet) {
  const frag = document.createDocumentFragment();
  const parts = snippet.split(/(<mark>|<\/mark>)/);
  let inMark = false;
  const decode = (s) => new DOMParser().parseFromString('<!doctype html><body>' + s, 'text/html').body.textContent;
  for (const p of parts) {
    if (p === '<mark>') { inMark = true; continue; }
    if (p === '</mark>') { inMark = false; continue; }
    const t = decode(p.replace(/</g, '&lt;'));
    frag.append(inMark ? h('mark', null, t) : t);
  }
  return frag;
}

export class List {
  constructor(app) {
    this.app = app;
    this.el = document.getElementById('list');
    this.ids = [];
    this.threads = new Map();
    this.snippets = new Map();
    this.total = 0;
    this.selected = new Set();
    this.cursor = -1;
    this.filter = null;
    this.loading = false;
    // Bumped by show(): a reply to a request made for an earlier list (a push refresh or a next
    // page still in flight when the user moved on) is dropped instead of overwriting this one.
    this.generation = 0;
    this.observer = new IntersectionObserver((es) => {
      if (es.some((e) => e.isIntersecting)) this.more();
    }, { root: this.el });
  }

  // Shows a mailbox or a search: filter is a JMAP FilterCondition; text marks a search.
  async show(filter, searchText) {
    this.generation++;
    this.loading = false;
    this.filter = filter;
    this.search = searchText || null;
    this.ids = [];
    this.snippets.clear();
    this.selected.clear();
    this.cursor = -1;
    this.el.replaceChildren(h('p', { class: 'muted pad' }, 'Loading…'));
    if (await this.fetch(0, PAGE)) this.render();
  }

  // Loads a window of the list; null when the list changed while the request was out (another
  // list shown, or, for a next page (`append`), the rows above it changed meanwhile).
  async fetch(position, limit, append = false) {
    const generation = this.generation;
    const calls = [
      ['Email/query', {
        filter: this.filter, sort: [{ property: 'receivedAt', isAscending: false }],
        // A mailbox's conversation count is its totalThreads (RFC 8621 §2): asking the server
        // to count would walk the whole mailbox; only a search needs calculateTotal.
        collapseThreads: true, position, limit, calculateTotal: !!this.search
      }, 'q'],
      ['Email/get', { '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: PROPS }, 'g'],
      ['Thread/get', { '#ids': { resultOf: 'g', name: 'Email/get', path: '/list/*/threadId' } }, 't']
    ];
    if (this.search) {
      calls.push(['SearchSnippet/get', { filter: this.filter, '#emailIds': { resultOf: 'q', name: 'Email/query', path: '/ids' } }, 's']);
    }
    const r = await this.app.jmap.call(calls);
    if (generation !== this.generation || (append && this.ids.length !== position)) return null;
    this.app.state.remember(r.g.list);
    for (const t of r.t.list) this.threads.set(t.id, t.emailIds);
    if (r.s) for (const s of r.s.list) this.snippets.set(s.emailId, s);
    if (this.search) this.total = r.q.total;
    else {
      const m = this.app.state.mailboxes.get(this.filter.inMailbox);
      // More pages exist while pages come back full; totalThreads is the count to show.
      const shown = position + r.q.ids.length;
      this.total = Math.max(shown, m ? m.totalThreads : 0, r.q.ids.length === limit ? shown + 1 : 0);
      if (r.q.ids.length < limit) this.total = shown;
    }
    this.queryState = r.q.queryState;
    const ids = r.q.ids;
    this.ids.splice(position, ids.length, ...ids);
    return ids;
  }

  async more() {
    if (this.loading || this.ids.length >= this.total) return;
    this.loading = true;
    try {
      if (await this.fetch(this.ids.length, PAGE, true)) this.render();
    } finally { this.loading = false; }
  }

  // After a change elsewhere: the loaded window again, in one round trip.
  async refresh() {
    if (!this.filter) return;
    if (!(await this.fetch(0, Math.max(PAGE, this.ids.length)))) return;
    this.ids.length = Math.min(this.ids.length, this.total);
    this.render();
  }

  row(id, i) {
    const e = this.app.state.emails.get(id);
    if (!e) return null;
    const k = e.keywords || {};
    const n = (this.threads.get(e.threadId) || [id]).length;
    const inSent = this.app.route.role === 'sent' || this.app.route.role === 'drafts';
    const who = inSent ? 'To: ' + (e.to || []).map(addr).join(', ') : (e.from || []).map(addr).join(', ');
    const snip = this.snippets.get(id);
    const cls = ['row', k.$seen ? 'read' : 'unread', k.$flagged ? 'flagged' : '', this.selected.has(id) ? 'selected' : '', i === this.cursor ? 'cursor' : ''].join(' ');
    const li = h('li', { class: cls, 'data-id': id, draggable: 'true', 'aria-current': i === this.cursor ? 'true' : null },
      h('input', { type: 'checkbox', 'aria-label': 'Select', checked: this.selected.has(id), onclick: (ev) => { ev.stopPropagation(); this.toggle(id); } }),
      h('a', { href: '#/t/' + e.threadId + '/' + id, class: 'open' },
        h('span', { class: 'from' }, who || '(nobody)', n > 1 ? h('span', { class: 'n' }, String(n)) : null),
        h('span', { class: 'subject' }, snip && snip.subject ? marked(snip.subject) : (e.subject || '(no subject)')),
        h('span', { class: 'preview' }, snip && snip.preview ? marked(snip.preview) : (e.preview || '')),
        h('span', { class: 'marks' }, k.$flagged ? h('span', { title: 'Flagged', class: 'flag' }, '★') : null,
          e.hasAttachment ? h('span', { title: 'Has attachments', class: 'clip', 'aria-label': 'Has attachments' }) : null),
        h('time', { datetime: e.receivedAt }, shortDate(e.receivedAt))));
    li.addEventListener('dragstart', (ev) => {
      const ids = this.selected.has(id) ? [...this.selected] : [id];
      ev.dataTransfer.setData('text/x-mailnook-ids', ids.join(','));
    });
    return li;
  }

  render() {
    const rows = this.ids.map((id, i) => this.row(id, i)).filter(Boolean);
    const ul = h('ul', { class: 'rows', 'aria-label': this.search ? 'Search results' : 'Conversations' }, rows);
    const head = h('div', { class: 'list-head' },
      h('span', { class: 'muted' }, this.search ? this.total + ' found' : this.total + (this.total === 1 ? ' conversation' : ' conversations')),
      this.selected.size ? this.app.actions.bar([...this.selected]) : null);
    const parts = [head, rows.length ? ul : h('p', { class: 'muted pad empty' }, this.search ? 'Nothing found.' : 'No messages here.')];
    if (this.ids.length < this.total) {
      const more = h('div', { class: 'sentinel muted pad' }, 'Loading more…');
      parts.push(more);
      this.observer.disconnect();
      this.observer.observe(more);
    }
    const top = this.el.scrollTop;
    this.el.replaceChildren(...parts);
    this.el.scrollTop = top;
  }

  toggle(id) {
    if (this.selected.has(id)) this.selected.delete(id); else this.selected.add(id);
    this.render();
  }

  // Removes rows at once (an optimistic move); render() brings them back on undo.
  drop(ids) {
    this.ids = this.ids.filter((i) => !ids.includes(i));
    this.total = Math.max(0, this.total - ids.length);
    for (const i of ids) this.selected.delete(i);
    this.render();
  }

  current() { return this.ids[this.cursor]; }

  step(d) {
    if (!this.ids.length) return;
    this.cursor = Math.max(0, Math.min(this.ids.length - 1, this.cursor + d));
    this.render();
    const r = this.el.querySelector('.row.cursor');
    if (r) r.scrollIntoView({ block: 'nearest' });
    if (this.cursor >= this.ids.length - 5) this.more();
  }
}
