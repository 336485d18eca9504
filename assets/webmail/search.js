// The search box: free text plus the usual shorthands, turned into a JMAP FilterCondition
// (RFC 8621 §4.4.1). from: to: subject: has:attachment in:<folder or role> before: after:
// (dates as YYYY-MM-DD), is:unread is:flagged; quotes keep words together.
export function parseSearch(q, mailboxes) {
  const cond = {}, text = [];
  const tokens = q.match(/(\w+:)?("[^"]*"|\S+)/g) || [];
  for (const tok of tokens) {
    const m = /^(\w+):(.*)$/.exec(tok);
    const val = (m ? m[2] : tok).replace(/^"|"$/g, '');
    const key = m ? m[1].toLowerCase() : null;
    if (key === 'from' || key === 'to' || key === 'subject' || key === 'cc' || key === 'bcc') cond[key] = val;
    else if (key === 'has' && /^attach/i.test(val)) cond.hasAttachment = true;
    else if (key === 'in') {
      const v = val.toLowerCase();
      for (const mb of mailboxes.values()) {
        if (mb.role === v || mb.name.toLowerCase() === v) { cond.inMailbox = mb.id; break; }
      }
    } else if (key === 'before' || key === 'after') {
      const d = new Date(val + (val.length === 10 ? 'T00:00:00' : ''));
      if (!isNaN(d)) cond[key] = d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    } else if (key === 'is') {
      if (val === 'unread') cond.notKeyword = '$seen';
      else if (val === 'flagged') cond.hasKeyword = '$flagged';
      else if (val === 'read') cond.hasKeyword = '$seen';
    } else text.push(m ? tok : val);
  }
  if (text.length) cond.text = text.join(' ');
  return cond;
}
