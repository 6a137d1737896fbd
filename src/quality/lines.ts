/**
 * Line-level cleaning before any document-level decision, as C4 drops lines rather than pages:
 * boilerplate lines (cookie and copyright notices, share/subscribe prompts, link-only lines,
 * navigation menus) and markup lines (HTML, JavaScript) are removed from a document; the document
 * is judged on what remains. A link inside a sentence is not boilerplate.
 */
export interface CleanedDocument {
  /** The text without removed lines (the input itself when nothing was removed). */
  text: string;
  /** Non-empty lines before cleaning. */
  lines: number;
  boilerplateLines: number;
  markupLines: number;
}

const URL_G = /(?:[a-z][a-z0-9+.-]*:\/\/|www\.)\S+/gi;
const HANDLE_G = /[@#][\p{L}\p{N}_]+/gu;
const WORD = /[\p{L}\p{N}]/u;
/** HTML tags; escaped entities (&gt;) alone are how tweets arrive from some APIs, not markup. */
const TAG_G = /<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]{0,300})?\/?>/g;
const CODE = /(?:\bfunction\s*\(|\b(?:var|const|let)\s+[\w$]+\s*=|\breturn\b[^.!?]*;|\b(?:document|window|console)\.[a-zA-Z]|=>\s*\{|<\/?script)/;
const CODE_PUNCT_G = /[{};=]/g;
/** Separators of menu items: a line of 4+ short items between them is a navigation menu. */
const NAV_SEPARATORS = /\s+[|•·›»]\s+|\s{3,}|\t/u;
/**
 * Boilerplate phrases mark a line only when it is short and part of a page (2+ lines): a sentence
 * that mentions "copyright", or a tweet asking for followers, is text.
 */
const PATTERN_LINE_MAX_WORDS = 20;
const LINK_CAPTION_MAX_WORDS = 3;

export function cleanDocument(text: string, patterns: readonly string[]): CleanedDocument {
  const raw = text.split('\n');
  const page = raw.filter((l) => l.trim().length > 0).length > 1;
  const lowered = patterns.map((p) => p.toLowerCase());
  let lines = 0;
  let boilerplateLines = 0;
  let markupLines = 0;
  const kept: string[] = [];
  for (const line of raw) {
    const t = line.trim();
    if (t.length === 0) {
      kept.push(line);
      continue;
    }
    lines++;
    const kind = lineKind(t, page ? lowered : []);
    if (kind === 'boilerplate') boilerplateLines++;
    else if (kind === 'markup') markupLines++;
    else kept.push(line);
  }
  if (boilerplateLines + markupLines === 0) return { text, lines, boilerplateLines, markupLines };
  return { text: kept.join('\n').trim(), lines, boilerplateLines, markupLines };
}

/** `patterns` is empty for a one-line document: phrases and captioned links mark lines of pages only. */
export function lineKind(line: string, patterns: readonly string[]): 'text' | 'boilerplate' | 'markup' {
  if (isMarkup(line)) return 'markup';
  const words = line
    .replace(URL_G, ' ')
    .replace(HANDLE_G, ' ')
    .split(/\s+/u)
    .filter((w) => WORD.test(w));
  // Link-only: nothing but links (and handles) on the line; on a page, a link with a caption ("Read more: ...").
  const maxCaption = patterns.length > 0 ? LINK_CAPTION_MAX_WORDS : 0;
  if (words.length <= maxCaption && line.search(URL_G) >= 0) return 'boilerplate';
  if (isNavigation(line)) return 'boilerplate';
  if (words.length <= PATTERN_LINE_MAX_WORDS) {
    const l = line.toLowerCase();
    if (patterns.some((p) => l.includes(p))) return 'boilerplate';
  }
  return 'text';
}

function isMarkup(line: string): boolean {
  let tagChars = 0;
  for (const m of line.matchAll(TAG_G)) tagChars += m[0].length;
  if (tagChars > 0 && tagChars >= 0.2 * line.length) return true;
  return CODE.test(line) && (line.match(CODE_PUNCT_G)?.length ?? 0) >= 2;
}

function isNavigation(line: string): boolean {
  const items = line.split(NAV_SEPARATORS).filter((x) => x.length > 0);
  if (items.length < 4) return false;
  return items.every((x) => WORD.test(x) && x.split(/\s+/u).length <= 3 && !/[.!?]$/u.test(x));
}
