// mailnook admin: the actions of the page, on top of server-rendered HTML that reads without
// JavaScript. Talks only to /admin/api; every change sends the session's CSRF token in
// X-CSRF-Token (see src/http/admin_session.rs). Table rows come from the server already
// rendered and escaped (/admin/rows/*); any other text is inserted with textContent.
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

  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }


  function copyButton(value) {
    var b = el('button', 'Copy', { type: 'button', 'data-copy': value });
    b.className = 'copy';
    return b;
  }

  // ---- table rows ------------------------------------------------------------------------
  // Rows are rendered once, on the server (src/http/admin_html.rs `*_rows`, escaped there);
  // this only puts the fresh table bodies in place, keyed by their <tbody> id.
  function refreshRows(which) {
    return fetch('/admin/rows/' + which, { credentials: 'same-origin' }).then(function (r) {
      if (r.status === 401) { location.href = '/admin'; }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (rows) {
      Object.keys(rows).forEach(function (id) {
        var t = document.getElementById(id);
        if (t) t.innerHTML = rows[id];
      });
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
    } else if (act === 'app-add') {
      // App passwords (issue #15): for mail apps only, shown once.
      var name = prompt('Name of the new app password for ' + addr + ' (e.g. "Anna\'s phone"):');
      if (name === null) return;
      api('POST', 'app-password/add', { address: addr, name: name })
        .then(function (j) { flash('App password "' + name.trim() + '" for ' + addr + ' (shown once; for mail apps, not this page):', true, j.password); })
        .catch(fail);
    } else if (act === 'app-list') {
      api('GET', 'app-password/list?address=' + encodeURIComponent(addr)).then(function (j) {
        var list = j.app_passwords || [];
        if (!list.length) { flash(addr + ' has no app passwords.', true); return; }
        var lines = list.map(function (p) {
          var used = p.last_used ? new Date(p.last_used * 1000).toLocaleString() + ' from ' + p.last_ip : 'never used';
          return p.id + '  ' + p.name + '  (' + used + ')';
        });
        var id = prompt('App passwords of ' + addr + ':\n' + lines.join('\n') + '\n\nType an id to revoke it:');
        if (!id) return;
        return api('POST', 'app-password/del', { address: addr, which: id.trim() }).then(done);
      }).catch(fail);
    } else if (act === 'domain-del') {
      if (!confirm('Stop receiving mail for ' + addr + '?')) return;
      api('POST', 'domain/del', { domain: addr }).then(done).catch(fail);
    } else if (act === 'alias-del') {
      if (!confirm('Remove the alias ' + addr + '?')) return;
      api('POST', 'alias/del', { address: addr }).then(done).catch(fail);
    }
  });

  // ---- domains and aliases -----------------------------------------------------------------
  function refreshAll() { return refreshRows('lists'); }
  function simpleForm(id, path, body) {
    $(id).addEventListener('submit', function (ev) {
      ev.preventDefault();
      var f = ev.target;
      api('POST', path, body(f)).then(function (j) { f.reset(); flash(j.done, true); return refreshAll(); })
        .catch(function (e) { flash(e.message, false); });
    });
  }
  simpleForm('#add-domain', 'domain/add', function (f) { return { domain: f.domain.value.trim() }; });
  simpleForm('#set-quota', 'quota/set', function (f) {
    var v = function (n) { return f[n].value.trim() || null; };
    return { address: f.address.value.trim(), storage: v('storage'), storage_warn: v('storage_warn'),
      messages: v('messages'), messages_warn: v('messages_warn') };
  });
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
      return refreshRows('status');
    }).catch(function () { /* keep the last figures; the next tick tries again */ });
  }
  setInterval(refreshStatus, 10000);
})();
