// mailnook admin: the actions of the page, on top of server-rendered HTML that reads without
// JavaScript. Talks only to /admin/api; every change sends the session's CSRF token in
// X-CSRF-Token (see src/http/admin_session.rs). Text from the server is inserted with
// textContent, never as HTML.
'use strict';
(function () {
  document.documentElement.classList.add('js');
  var meta = document.querySelector('meta[name=csrf]');
  if (!meta) return; // the sign-in page needs no script
  var csrf = meta.content;
  var me = document.body.dataset.me;
  var $ = function (s, el) { return (el || document).querySelector(s); };

  function api(method, path, body) {
    var opts = { method: method, credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch('/admin/api/' + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.status === 401) { location.href = '/admin'; }
        if (!r.ok) throw new Error(j.detail || ('HTTP ' + r.status));
        return j;
      });
    });
  }

  function flash(text, ok, secret) {
    var f = $('#flash');
    f.textContent = text;
    if (secret) {
      var c = document.createElement('code');
      c.textContent = secret;
      f.append(' ', c, ' ');
      f.append(copyButton(secret));
    }
    f.className = 'flash ' + (ok ? 'ok' : 'bad');
    f.hidden = false;
    f.scrollIntoView({ block: 'nearest' });
  }

  function humanBytes(n) {
    if (n == null) return null;
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    if (n < 1024) return n + ' B';
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return n.toFixed(1) + ' ' + u[i];
  }
  function humanDuration(s) {
    var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    if (!d && !h && !m) return s + 's';
    if (!d && !h) return m + 'm ' + (s % 60) + 's';
    if (!d) return h + 'h ' + m + 'm';
    return d + 'd ' + h + 'h ' + m + 'm';
  }
  function when(secs) {
    var t = new Date(secs * 1000).toISOString();
    return t.slice(0, 10) + ' ' + t.slice(11, 16) + ' UTC';
  }
  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }
  function cell(label, text, cls) {
    var td = el('td', text, { 'data-l': label });
    if (cls) td.className = cls;
    return td;
  }
  function button(text, act, addr, cls) {
    var b = el('button', text, { type: 'button', 'data-act': act, 'data-addr': addr });
    if (cls) b.className = cls;
    return b;
  }
  function copyButton(value) {
    var b = el('button', 'Copy', { type: 'button', 'data-copy': value });
    b.className = 'copy';
    return b;
  }

  // ---- accounts ----------------------------------------------------------------------------
  function accountRow(a) {
    var tr = el('tr', null, { 'data-addr': a.address });
    var first = cell('Address');
    first.append(el('b', a.address));
    if (a.address === me) {
      var you = el('span', 'you');
      you.className = 'badge';
      first.append(' ', you);
    }
    if (a.aliases && a.aliases.length) {
      var s = el('small', 'aliases: ' + a.aliases.join(', '));
      s.className = 'muted';
      first.append(s);
    }
    tr.append(first, cell('Admin', a.admin ? 'admin' : '—'), cell('Messages', String(a.emails), 'num'),
      cell('Storage', humanBytes(a.storage_bytes), 'num'),
      cell('Last delivery', a.last_delivery ? when(a.last_delivery) : 'never'));
    var act = el('td');
    act.className = 'actions js-only';
    act.append(button('Reset password', 'passwd', a.address));
    if (a.address !== me) act.append(button('Delete', 'del', a.address, 'danger'));
    tr.append(act);
    return tr;
  }
  function refreshAccounts() {
    return api('GET', 'user/list').then(function (j) {
      $('#account-rows').replaceChildren.apply($('#account-rows'), j.accounts.map(accountRow));
    });
  }

  $('#add-user').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target, btn = $('button[type=submit]', f);
    btn.disabled = true;
    api('POST', 'user/add', {
      address: f.address.value.trim(), password: f.password.value || null, admin: f.admin.checked
    }).then(function (j) {
      f.reset();
      flash('Created ' + j.address + '.' + (j.password ? ' Its password (shown once):' : ''), true, j.password);
      return refreshAll();
    }).catch(function (e) { flash(e.message, false); })
      .finally(function () { btn.disabled = false; });
  });

  // Row buttons (accounts, domains, aliases): one delegated handler.
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-act]');
    if (!b) return;
    var addr = b.dataset.addr, act = b.dataset.act, done = function (j) { flash(j.done, true); return refreshAll(); };
    var fail = function (e) { flash(e.message, false); };
    if (act === 'del') {
      var typed = prompt('Delete ' + addr + ' and ALL its mail? This cannot be undone.\nType the address to confirm:');
      if (typed === null) return;
      api('POST', 'user/del', { address: addr, confirm: typed }).then(done).catch(fail);
    } else if (act === 'passwd') {
      var p = prompt('New password for ' + addr + ' (at least 8 characters).\nLeave empty to generate one:');
      if (p === null) return;
      api('POST', 'user/passwd', { address: addr, password: p || null })
        .then(function (j) { flash(j.done + (j.password ? '. New password (shown once):' : '.'), true, j.password); })
        .catch(fail);
    } else if (act === 'domain-del') {
      if (!confirm('Stop receiving mail for ' + addr + '?')) return;
      api('POST', 'domain/del', { domain: addr }).then(done).catch(fail);
    } else if (act === 'alias-del') {
      if (!confirm('Remove the alias ' + addr + '?')) return;
      api('POST', 'alias/del', { address: addr }).then(done).catch(fail);
    }
  });

  // ---- domains and aliases -----------------------------------------------------------------
  function actionCell(act, addr) {
    var td = el('td');
    td.className = 'actions js-only';
    td.append(button('Remove', act, addr, 'danger'));
    return td;
  }
  function domainRow(d) {
    var tr = el('tr', null, { 'data-domain': d.domain }), first = cell('Domain');
    first.append(el('b', d.domain));
    tr.append(first, cell('Accounts', String(d.accounts), 'num'),
      cell('Catch-all', d.catch_all.length ? d.catch_all.join(', ') : '—'), cell('Added', when(d.added_at)),
      actionCell('domain-del', d.domain));
    return tr;
  }
  function aliasRow(a) {
    var tr = el('tr', null, { 'data-alias': a.address }), first = cell('Alias');
    first.append(el('b', a.address));
    tr.append(first, cell('Delivers to', a.targets.join(', ')), actionCell('alias-del', a.address));
    return tr;
  }
  // An empty table says so in one row (src/http/admin_html.rs empty_row renders the same).
  function fill(sel, rows, columns, emptyText) {
    if (!rows.length) {
      var tr = el('tr'), td = el('td', emptyText, { colspan: String(columns) });
      tr.className = 'empty';
      td.className = 'muted';
      tr.append(td);
      rows = [tr];
    }
    var t = $(sel);
    t.replaceChildren.apply(t, rows);
  }
  function refreshAll() {
    return Promise.all([
      refreshAccounts(),
      api('GET', 'domain/list').then(function (j) { fill('#domain-rows', j.domains.map(domainRow), 5,
        'No domains yet: adding an account adds its domain.'); }),
      api('GET', 'alias/list').then(function (j) { fill('#alias-rows', j.aliases.map(aliasRow), 3, 'No aliases yet.'); })
    ]);
  }
  function simpleForm(id, path, body) {
    $(id).addEventListener('submit', function (ev) {
      ev.preventDefault();
      var f = ev.target;
      api('POST', path, body(f)).then(function (j) { f.reset(); flash(j.done, true); return refreshAll(); })
        .catch(function (e) { flash(e.message, false); });
    });
  }
  simpleForm('#add-domain', 'domain/add', function (f) { return { domain: f.domain.value.trim() }; });
  simpleForm('#add-alias', 'alias/add', function (f) {
    return { address: f.address.value.trim(), targets: f.targets.value.split(/[\s,]+/).filter(Boolean) };
  });

  // ---- copy buttons ------------------------------------------------------------------------
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-copy]');
    if (!b) return;
    var text = b.dataset.copy;
    var done = function () { b.textContent = 'Copied'; setTimeout(function () { b.textContent = 'Copy'; }, 1500); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else { fallbackCopy(text); done(); }
  });
  function fallbackCopy(text) {
    var t = el('textarea');
    t.value = text;
    document.body.append(t);
    t.select();
    try { document.execCommand('copy'); } catch (e) { /* the text stays visible to copy by hand */ }
    t.remove();
  }

  // ---- certificate -------------------------------------------------------------------------
  var cert = $('#cert-install');
  cert.addEventListener('change', function (ev) {
    var input = ev.target;
    if (input.type !== 'file' || !input.files[0]) return;
    input.files[0].text().then(function (t) { cert.elements[input.dataset.fill].value = t; });
  });
  cert.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var e = cert.elements, body = {};
    ['cert_pem', 'key_pem', 'cert_path', 'key_path'].forEach(function (k) {
      if (e[k].value.trim()) body[k] = e[k].value;
    });
    api('POST', 'cert/install', body).then(function (j) {
      flash('Certificate installed (SHA-256 ' + j.certificate.fingerprint_sha256 + '). Reloading…', true);
      setTimeout(function () { location.reload(); }, 1500);
    }).catch(function (err) { flash(err.message, false); });
  });

  // ---- status ------------------------------------------------------------------------------
  function setFig(k, v) { var d = $('[data-k=' + k + ']'); if (d && v != null) d.textContent = v; }
  // An address may wrap after its "@" (admin_html.rs breakable() does the same), never mid-word.
  function addrCell(label, text) {
    var td = cell(label), parts = text.split('@');
    parts.forEach(function (p, i) {
      if (i) td.append('@', el('wbr'));
      td.append(p);
    });
    return td;
  }
  function smtpRow(t) {
    var tr = el('tr');
    tr.className = t.code >= 200 && t.code < 300 ? 'ok' : 'bad';
    var client = cell('Client', t.client_ip);
    if (t.helo) { var s = el('small', t.helo); s.className = 'muted'; client.append(' ', s); }
    var a = t.auth;
    tr.append(cell('Time', when(t.time)), client,
      addrCell('Sender', t.sender == null ? '—' : (t.sender || '<>')), addrCell('Recipients', t.recipients.join(', ')),
      cell('Result', t.code + ' ' + t.text),
      cell('Auth', a ? 'spf=' + a.spf + ' dkim=' + a.dkim + ' dmarc=' + a.dmarc + ' → ' + a.disposition : '—'));
    return tr;
  }
  function refreshStatus() {
    if (document.hidden) return;
    api('GET', 'status').then(function (s) {
      setFig('uptime', humanDuration(s.uptime_secs));
      setFig('storage', s.storage);
      setFig('logins', s.logins_refused + ' of ' + (s.logins_refused + s.logins_checked));
      setFig('rss', humanBytes(s.rss_bytes) || 'unknown');
      setFig('db', humanBytes(s.db_bytes) || 'unknown');
      setFig('index', humanBytes(s.index_bytes) || 'none yet');
      setFig('accounts', String(s.accounts));
      setFig('today', String(s.messages_today));
      setFig('refused', String(s.refused_today));
      setFig('push', s.push_connections == null ? 'unavailable' : String(s.push_connections));
      var rows = s.smtp.map(smtpRow);
      if (!rows.length) {
        var td = el('td', 'None since the server started.', { colspan: '6' });
        td.className = 'muted';
        rows = [el('tr')];
        rows[0].append(td);
      }
      $('#smtp-rows').replaceChildren.apply($('#smtp-rows'), rows);
    }).catch(function () { /* keep the last figures; the next tick tries again */ });
  }
  setInterval(refreshStatus, 10000);
})();
