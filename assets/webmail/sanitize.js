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
export function sanitize(source, { remote, cids, Parser }) {
  // Parsed by the frame window's DOMParser: the inert document then lives under the frame's
  // CSP (inline styles allowed there), not the app's, which would refuse every style.
  const doc = new Parser().parseFromString(source, 'text/html');
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
        // A style that would fetch something (held back) loses the attribute as a whole.
        if (!remote && (CSS_URL.test(v) || /expression\s*\(/i.test(v))) { blocked++; el.removeAttribute(a.name); }
        CSS_URL.lastIndex = 0;
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
  const css = [];
  for (const st of doc.querySelectorAll('style')) {
    css.push(st.textContent.replace(CSS_URL, (m) => { if (!remote) blocked++; return remote && !m.startsWith('@') ? m : 'none'; }));
    st.remove();
  }
  const styles = css.map((c) => '<style>' + c.replace(/<\/?style/gi, '') + '</style>').join('');
  // The body's own look (newsletters set their background there), carried as markup.
  const attr = (n) => { const v = doc.body.getAttribute(n); return v ? ' ' + n + '="' + v.replace(/&/g, '&amp;').replace(/"/g, '&quot;') + '"' : ''; };
  const body = '<body' + attr('style') + attr('bgcolor') + attr('text') + '>';
  return { html: '<head>' + styles + '</head>' + body + doc.body.innerHTML + '</body>', blocked };
}
