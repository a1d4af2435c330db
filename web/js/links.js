// Message text with its web addresses as links, built as DOM nodes (never HTML):
// only http and https addresses become links, and they open in a new tab that
// cannot reach back to this one.

/** An address starting with http(s):// or www., up to white space. */
const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"]+/giu;
/** Punctuation that ends a sentence rather than an address. */
const TRAILING = /[.,;:!?'")\]}]+$/u;

/**
 * The link target of an address as written, or null when it is not a web address.
 * @param {string} written
 */
export function webUrl(written) {
  try {
    const url = new URL(/^www\./i.test(written) ? `https://${written}` : written);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * `text` as text nodes and `<a>` elements, for a bubble.
 * @param {string} text
 * @returns {Node[]}
 */
export function linkified(text) {
  /** @type {Node[]} */
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let written = match[0];
    const trailing = written.match(TRAILING)?.[0] ?? '';
    // A closing bracket that the address opened belongs to it (Wikipedia's "(disambiguation)").
    const keep = trailing.startsWith(')') && written.includes('(') ? 1 : 0;
    written = written.slice(0, written.length - trailing.length + keep);
    const href = webUrl(written);
    const start = match.index ?? 0;
    if (!href) continue;
    if (start > last) parts.push(document.createTextNode(text.slice(last, start)));
    const link = document.createElement('a');
    link.className = 'msg-link';
    link.href = href;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.textContent = written;
    link.dataset.testid = 'message-link';
    parts.push(link);
    last = start + written.length;
  }
  if (last < text.length) parts.push(document.createTextNode(text.slice(last)));
  return parts;
}
