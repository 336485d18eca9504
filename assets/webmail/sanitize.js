// Turns a message's HTML into something safe to show: the first of three walls (then the
// iframe's sandbox without scripts, then the frame document's Content-Security-Policy from
// src/http/webmail.rs). Parsed with DOMParser, whose document runs no script and loads nothing.
// Removed: scripts, frames, objects, forms and their controls, meta (refresh), base, link, event
// handler attributes, javascript:/vbscript:/data: links. Remote images and CSS url()s are held
// back until the reader allows remote content; inline cid: images come from `cids`.

const DROP = 'script,noscript,iframe,frame,frameset,object,embed,applet,form,input,button,select,' +
  'textarea,meta,base,link,portal,template,audio,video,source,track,foreignObject,animate,set';
const URL_ATTRS = ['href', 'src', 'xlink:href', 'action', 'formaction', 'background', 'poster', 'srcset', 'lowsrc', 'dynsrc', 'ping', 'cite', 'longdesc', 'usemap'];
const REMOTE = /^\s*(https?:)?\/\//i;
const CSS_URL = /url\s*\(\s*(['"]?)\s*((?:https?:)?\/\/[^)'"]*)\1\s*\)|@import[^;]+;?/gi;

// Returns { html, blocked } where blocked counts remote resources held back.
export function sanitize(source, { remote, cids }) {
  const doc = new DOMParser().parseFromString(source, 'text/html');
  let blocked = 0;
  for (const el of doc.querySelectorAll(DROP)) el.remove();
  for (const el of doc.querySelectorAll('*')) {
    for (const a of [...el.attributes]) {
      const name = a.name.toLowerCase(), v = a.value;
      if (name.startsWith('on') || name === 'srcdoc' || name === 'formaction' || name === 'action' || name === 'http-equiv') {
        el.removeAttribute(a.name);
        continue;
      }
      if (name === 'style') {
        const clean = v.replace(CSS_URL, (m) => { if (!remote) blocked++; return remote && !m.startsWith('@') ? m : 'none'; });
        el.setAttribute('style', clean.replace(/expression\s*\(/gi, '('));
        continue;
      }
      if (!URL_ATTRS.includes(name)) continue;
      const url = v.trim();
      const lower = url.replace(/[\s\u0000-\u001f]/g, '').toLowerCase();
      if (lower.startsWith('javascript:') || lower.startsWith('vbscript:') || (lower.startsWith('data:') && !(name === 'src' && lower.startsWith('data:image/')))) {
        el.removeAttribute(a.name);
      } else if (lower.startsWith('cid:')) {
        const data = cids.get(url.slice(4).replace(/^<|>$/g, ''));
        if (data) el.setAttribute(a.name, data); else el.removeAttribute(a.name);
      } else if (name !== 'href' && REMOTE.test(url)) {
        if (!remote) { blocked++; el.removeAttribute(a.name); el.setAttribute('data-blocked', ''); }
      } else if (name !== 'href' && name !== 'src') {
        el.removeAttribute(a.name);
      }
    }
    if (el.tagName === 'A') {
      el.setAttribute('target', '_blank');
      el.setAttribute('rel', 'noopener noreferrer');
    }
  }
  for (const st of doc.querySelectorAll('style')) {
    st.textContent = st.textContent.replace(CSS_URL, (m) => { if (!remote) blocked++; return remote && !m.startsWith('@') ? m : 'none'; });
  }
  const styles = [...doc.querySelectorAll('style')].map((s) => s.outerHTML).join('');
  return { html: '<head>' + styles + '</head><body>' + doc.body.innerHTML + '</body>', blocked };
}
