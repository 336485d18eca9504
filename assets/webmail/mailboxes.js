// The mailbox tree (RFC 8621 §2) with unread counts; create, rename, move and delete through
// Mailbox/set. Roles show their usual names and icons; the rest sort by sortOrder and name.
import { h, ROLES, ROLE_ORDER, ask, toast, errorToast } from './ui.js';

export class Mailboxes {
  constructor(app) {
    this.app = app;
    this.el = document.getElementById('mailboxes');
    app.state.on((w) => { if (w === 'mailboxes') this.render(); });
  }

  sorted(parentId) {
    const rank = (m) => (m.role && ROLE_ORDER.includes(m.role) ? ROLE_ORDER.indexOf(m.role) : 100);
    return [...this.app.state.mailboxes.values()]
      .filter((m) => (m.parentId || null) === parentId)
      .sort((a, b) => rank(a) - rank(b) || a.sortOrder - b.sortOrder || a.name.localeCompare(b.name));
  }

  label(m) {
    return m.role && ROLES[m.role] ? ROLES[m.role][0] : m.name;
  }

  render() {
    const current = this.app.route.mailbox;
    const tree = (parentId, depth) => {
      const ul = h('ul', { role: depth ? 'group' : 'tree', 'aria-label': depth ? null : 'Mailboxes' });
      for (const m of this.sorted(parentId)) {
        const icon = m.role && ROLES[m.role] ? ROLES[m.role][1] : '▸';
        const unread = m.role === 'drafts' ? m.totalEmails : m.unreadEmails;
        const a = h('a', {
          href: '#/m/' + m.id, class: m.id === current ? 'current' : null,
          'aria-current': m.id === current ? 'page' : null, 'data-mailbox': m.id, 'data-role': m.role
        }, h('span', { class: 'icon', 'aria-hidden': 'true' }, icon), h('span', { class: 'name' }, this.label(m)),
        unread ? h('span', { class: 'count', 'aria-label': unread + ' unread' }, String(unread)) : null);
        this.dropTarget(a, m);
        const li = h('li', { role: 'treeitem' }, a);
        const kids = this.sorted(m.id);
        if (kids.length) li.append(tree(m.id, depth + 1));
        ul.append(li);
      }
      return ul;
    };
    this.el.replaceChildren(tree(null, 0),
      h('div', { class: 'mb-actions' },
        h('button', { type: 'button', class: 'link', onclick: () => this.create() }, '+ New folder'),
        current && !this.app.state.mailboxes.get(current)?.role
          ? h('span', null,
            h('button', { type: 'button', class: 'link', onclick: () => this.rename(current) }, 'Rename'),
            h('button', { type: 'button', class: 'link', onclick: () => this.move(current) }, 'Move'),
            h('button', { type: 'button', class: 'link danger', onclick: () => this.destroy(current) }, 'Delete'))
          : null));
    const trash = this.app.state.role('trash');
    if (trash && current === trash.id && trash.totalEmails) {
      this.el.append(h('button', { type: 'button', class: 'link danger', onclick: () => this.app.actions.emptyTrash() }, 'Empty Trash'));
    }
  }

  // Drag a message row onto a mailbox to move it there.
  dropTarget(a, m) {
    a.addEventListener('dragover', (ev) => { ev.preventDefault(); a.classList.add('drop'); });
    a.addEventListener('dragleave', () => a.classList.remove('drop'));
    a.addEventListener('drop', (ev) => {
      ev.preventDefault();
      a.classList.remove('drop');
      const ids = (ev.dataTransfer.getData('text/x-mailnook-ids') || '').split(',').filter(Boolean);
      if (ids.length) this.app.actions.move(ids, m.id);
    });
  }

  parentOptions(except) {
    const opts = [['', '(top level)']];
    for (const m of this.app.state.mailboxes.values()) if (m.id !== except) opts.push([m.id, this.label(m)]);
    return opts;
  }

  async set(args, what) {
    try {
      const r = await this.app.jmap.one('Mailbox/set', args);
      const err = r.notCreated || r.notUpdated || r.notDestroyed;
      if (err && Object.keys(err).length) {
        const e = Object.values(err)[0];
        toast(what + ' failed: ' + (e.description || e.type));
        return null;
      }
      await this.app.state.refreshMailboxes();
      return r;
    } catch (e) { errorToast(e); return null; }
  }

  async create() {
    const v = await ask('New folder', [
      { name: 'name', label: 'Name', required: true },
      { name: 'parent', label: 'Inside', type: 'select', options: this.parentOptions(), value: '' }
    ], 'Create');
    if (!v || !v.name.trim()) return;
    await this.set({ create: { n: { name: v.name.trim(), parentId: v.parent || null } } }, 'Creating the folder');
  }

  async rename(id) {
    const m = this.app.state.mailboxes.get(id);
    const v = await ask('Rename folder', [{ name: 'name', label: 'Name', value: m.name, required: true }], 'Rename');
    if (!v || !v.name.trim()) return;
    await this.set({ update: { [id]: { name: v.name.trim() } } }, 'Renaming');
  }

  async move(id) {
    const m = this.app.state.mailboxes.get(id);
    const v = await ask('Move folder', [
      { name: 'parent', label: 'Inside', type: 'select', options: this.parentOptions(id), value: m.parentId || '' }
    ], 'Move');
    if (!v) return;
    await this.set({ update: { [id]: { parentId: v.parent || null } } }, 'Moving');
  }

  async destroy(id) {
    const m = this.app.state.mailboxes.get(id);
    if (!confirm('Delete the folder "' + m.name + '"' + (m.totalEmails ? ' and its ' + m.totalEmails + ' messages' : '') + '?')) return;
    const r = await this.set({ destroy: [id], onDestroyRemoveEmails: true }, 'Deleting');
    if (r) location.hash = '#/m/' + this.app.state.role('inbox').id;
  }
}
