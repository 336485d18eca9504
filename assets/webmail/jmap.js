// The JMAP client of the webmail (RFC 8620): the session, method calls, uploads, downloads and
// the event source. The browser's session cookie authenticates; every POST carries the CSRF
// token (src/http/webmail_session.rs). Nothing here knows about the views.
const CORE = 'urn:ietf:params:jmap:core';
const MAIL = 'urn:ietf:params:jmap:mail';
const SUBMISSION = 'urn:ietf:params:jmap:submission';
const VACATION = 'urn:ietf:params:jmap:vacationresponse';

export class JmapError extends Error {
  constructor(type, detail) {
    super(detail || type);
    this.type = type;
  }
}

export class Jmap {
  constructor(csrf) {
    this.csrf = csrf;
    this.session = null;
    this.accountId = null;
  }

  async init() {
    const r = await fetch('/jmap/session', { credentials: 'same-origin' });
    if (r.status === 401) { location.reload(); throw new JmapError('unauthorized'); }
    if (!r.ok) throw new JmapError('session', 'HTTP ' + r.status);
    this.session = await r.json();
    // The session's URLs are absolute for the configured host name; the app uses them on its
    // own origin, whatever name the browser reached it by (the cookie is host-only).
    for (const k of ['apiUrl', 'downloadUrl', 'uploadUrl', 'eventSourceUrl']) {
      this.session[k] = this.session[k].replace(/^https?:\/\/[^/]+/, '');
    }
    this.accountId = this.session.primaryAccounts[MAIL];
    this.using = [CORE, MAIL];
    for (const c of [SUBMISSION, VACATION]) if (this.session.capabilities[c]) this.using.push(c);
    this.maxObjects = this.session.capabilities[CORE].maxObjectsInGet || 500;
    return this.session;
  }

  // Runs method calls ([name, args, id] with accountId filled in); returns a map id -> args.
  // A method error becomes a rejected promise naming the method.
  async call(calls) {
    for (const c of calls) if (c[1].accountId === undefined) c[1].accountId = this.accountId;
    const r = await fetch(this.session.apiUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': this.csrf },
      body: JSON.stringify({ using: this.using, methodCalls: calls })
    });
    if (r.status === 401) { location.reload(); throw new JmapError('unauthorized'); }
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new JmapError(body.type || 'http', body.detail || ('HTTP ' + r.status));
    const out = {};
    for (const [name, args, id] of body.methodResponses) {
      if (name === 'error') throw new JmapError(args.type, id + ': ' + (args.description || args.type));
      out[id] = args;
    }
    return out;
  }

  // One method; its response arguments.
  async one(name, args) {
    return (await this.call([[name, args, 'x']])).x;
  }

  downloadUrl(blobId, name, type) {
    return this.session.downloadUrl
      .replace('{accountId}', encodeURIComponent(this.accountId))
      .replace('{blobId}', encodeURIComponent(blobId))
      .replace('{name}', encodeURIComponent(name || 'file'))
      .replace('{type}', encodeURIComponent(type || 'application/octet-stream'));
  }

  // Uploads a File/Blob (RFC 8620 §6.1) with progress; resolves to {blobId, type, size}.
  upload(file, onProgress) {
    const url = this.session.uploadUrl.replace('{accountId}', encodeURIComponent(this.accountId));
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open('POST', url);
      x.withCredentials = true;
      x.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
      x.setRequestHeader('X-CSRF-Token', this.csrf);
      x.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
      x.onload = () => {
        let j = {};
        try { j = JSON.parse(x.responseText); } catch (e) { /* reported below */ }
        if (x.status >= 200 && x.status < 300) resolve(j);
        else reject(new JmapError('upload', j.detail || ('HTTP ' + x.status)));
      };
      x.onerror = () => reject(new JmapError('upload', 'network error'));
      x.send(file);
    });
  }

  // The event source (RFC 8620 §7.3): calls onChange(changedTypes) for this account, and
  // onReconnect() after a drop, when the caller must catch up with /changes.
  listen(onChange, onReconnect) {
    const url = this.session.eventSourceUrl
      .replace('{types}', '*').replace('{closeafter}', 'no').replace('{ping}', '60');
    let dropped = false;
    const es = new EventSource(url, { withCredentials: true });
    es.addEventListener('state', (ev) => {
      let v;
      try { v = JSON.parse(ev.data); } catch (e) { return; }
      const changed = v.changed && v.changed[this.accountId];
      if (changed) onChange(changed);
    });
    es.onerror = () => { dropped = true; };
    es.onopen = () => { if (dropped) { dropped = false; onReconnect(); } };
    return es;
  }
}
