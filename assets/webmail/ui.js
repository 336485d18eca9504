// Small DOM and formatting helpers shared by the views. Text is always set with textContent
// (h() never parses HTML), so nothing from a message can become markup here.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const $ = (sel, root) => (root || document).querySelector(sel);

// Role -> [usual name, icon]. RFC 8621 §2 roles (IANA "IMAP Mailbox Name Attributes").
// The icons are plain text symbols every system font has (no emoji font needed).
export const ROLES = {
  inbox: ['Inbox', '✉'], drafts: ['Drafts', '✎'], sent: ['Sent', '➤'], archive: ['Archive', '▤'],
  junk: ['Junk', '⚠'], trash: ['Trash', '✖'], important: ['Important', '!'], flagged: ['Flagged', '★']
};
export const ROLE_ORDER = ['inbox', 'drafts', 'sent', 'archive', 'junk', 'trash'];

export function addr(a) {
  if (!a) return '';
  return a.name ? a.name : a.email;
}
export function addrs(list) {
  return (list || []).map(addr).join(', ');
}
export function fullAddr(a) {
  return a.name ? a.name + ' <' + a.email + '>' : a.email;
}

// "14:05" today, "3 Mar" this year, "3 Mar 2023" before.
export function shortDate(iso) {
  const d = new Date(iso), now = new Date();
  if (d.toDateString() === now.toDateString()) {
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }
  const opts = { day: 'numeric', month: 'short' };
  if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  return d.toLocaleDateString(undefined, opts);
}
export function longDate(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
export function size(n) {
  if (n < 1024) return n + ' B';
  if (n < 1048576) return Math.round(n / 1024) + ' KB';
  return (n / 1048576).toFixed(1) + ' MB';
}

// Plain text with http(s) links and mail addresses made clickable; everything else is text.
const LINK = /\b(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)/g;
export function linkify(text) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(LINK)) {
    frag.append(text.slice(last, m.index));
    const t = m[0];
    const href = t.includes('://') ? t : 'mailto:' + t;
    frag.append(h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, t));
    last = m.index + t.length;
  }
  frag.append(text.slice(last));
  return frag;
}

// A toast at the bottom; with `undo`, a button that calls it. Returns a function that hides it.
let toastTimer = null;
export function toast(text, undo, ms) {
  const t = $('#toast');
  t.replaceChildren(h('span', null, text));
  if (undo) {
    t.append(h('button', { type: 'button', class: 'link', onclick: () => { hide(); undo(); } }, 'Undo'));
  }
  t.hidden = false;
  clearTimeout(toastTimer);
  const hide = () => { t.hidden = true; };
  toastTimer = setTimeout(hide, ms || 6000);
  return hide;
}

export function errorToast(e) {
  toast('Something went wrong: ' + (e && e.message ? e.message : e));
}

// A modal form in a <dialog>. fields: [{name, label, value, type}] ; resolves to values or null.
export function ask(title, fields, ok) {
  return new Promise((resolve) => {
    const form = h('form', { method: 'dialog', class: 'ask' }, h('h2', null, title));
    for (const f of fields) {
      const input = f.type === 'select'
        ? h('select', { name: f.name }, f.options.map(([v, l]) => h('option', { value: v, selected: v === f.value }, l)))
        : h('input', { name: f.name, type: f.type || 'text', value: f.value || '', required: f.required });
      form.append(h('label', null, f.label, input));
    }
    const d = h('dialog', { class: 'modal' }, form);
    form.append(h('div', { class: 'row' },
      h('button', { type: 'button', onclick: () => { d.close(); d.remove(); resolve(null); } }, 'Cancel'),
      h('button', { type: 'submit', class: 'primary' }, ok || 'OK')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = {};
      for (const f of fields) v[f.name] = form.elements[f.name].value;
      d.close(); d.remove(); resolve(v);
    });
    document.body.append(d);
    d.showModal();
  });
}
