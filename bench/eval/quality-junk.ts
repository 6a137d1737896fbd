import { rng } from '../../src/math/random.js';

/**
 * Planted junk for the quality filters, in several scripts: the kinds of noise a web or social
 * crawl carries, each with the reason code that should reject it. Words and sentences come from
 * clean text of each script, so a filter cannot pass by recognising the language.
 */
export interface JunkRow {
  kind: JunkKind;
  /** The reason code the quality stage should give. */
  expected: string;
  script: string;
  text: string;
}

export const JUNK_KINDS = {
  symbol_soup: 'symbol_ratio',
  repeated_token: 'repetition',
  random_consonants: 'gibberish',
  keyboard_mash: 'gibberish',
  boilerplate_page: 'boilerplate',
  navigation_menu: 'boilerplate',
  digit_lines: 'digit_ratio',
  mojibake: 'mojibake',
  html_js: 'markup',
} as const;
export type JunkKind = keyof typeof JUNK_KINDS;

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

const SYMBOLS = [...'§±!@#$%^&*()_+={}[]|\\:;"\'<>?,./~`¤°¬¦×÷•¶※'];
const CONSONANTS: Record<string, string> = { Latn: 'bcdfghjklmnpqrstvwxz', Cyrl: 'бвгджзклмнпрстфхцчшщ', Grek: 'βγδζθκλμνξπρστφχψ' };
const KEYBOARD_ROWS: Record<string, string[]> = {
  Latn: ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'],
  Cyrl: ['йцукенгшщзх', 'фывапролдж', 'ячсмитьб'],
};
const UNSPACED = new Set(['Khmr', 'Thai', 'Laoo', 'Mymr', 'Hans']);
const BOILERPLATE = [
  'We use cookies to improve your experience. By continuing to browse you agree to our use of cookies.',
  'Nous utilisons des cookies pour améliorer votre expérience.',
  '© 2024 Daily News Ltd. All rights reserved.',
  'Copyright © 2023. Tous droits réservés.',
  'Subscribe to our newsletter',
  'Share this: Facebook Twitter WhatsApp',
  'Follow us on Twitter @dailynews',
  'Privacy Policy | Terms of Use | Contact',
  'Sign in | Log in | Register',
  'https://www.example.org/news/2024/05/article-12345.html',
  'Read more: https://example.com/p/98765',
  'Enable JavaScript to view this page.',
];
const CP1252: Record<number, string> = {
  0x80: '€',
  0x82: '‚',
  0x83: 'ƒ',
  0x84: '„',
  0x85: '…',
  0x86: '†',
  0x87: '‡',
  0x88: 'ˆ',
  0x89: '‰',
  0x8a: 'Š',
  0x8b: '‹',
  0x8c: 'Œ',
  0x8e: 'Ž',
  0x91: '‘',
  0x92: '’',
  0x93: '“',
  0x94: '”',
  0x95: '•',
  0x96: '–',
  0x97: '—',
  0x98: '˜',
  0x99: '™',
  0x9a: 'š',
  0x9b: '›',
  0x9c: 'œ',
  0x9e: 'ž',
  0x9f: 'Ÿ',
};

/** The UTF-8 bytes of `text` read as Latin-1 (`cp1252` false) or Windows-1252. */
export function mojibake(text: string, cp1252: boolean): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += cp1252 && CP1252[b] ? CP1252[b] : String.fromCharCode(b);
  return out;
}

function wordsOf(sentences: readonly string[], r: Rand, script: string): string[] {
  const s = pick(r, sentences);
  if (!UNSPACED.has(script)) return s.split(/\s+/u).filter((w) => /\p{L}/u.test(w));
  const seg = new Intl.Segmenter('und', { granularity: 'word' });
  return [...seg.segment(s)].filter((x) => x.isWordLike).map((x) => x.segment);
}

const GENERATORS: Record<JunkKind, (r: Rand, script: string, sentences: readonly string[]) => string | null> = {
  symbol_soup: (r, _s, sents) => {
    const letters = [...pick(r, sents).replace(/\s/gu, '')];
    return times(int(r, 4, 14), () => times(int(r, 1, 8), () => (r() < 0.08 ? pick(r, letters) : pick(r, SYMBOLS))).join('')).join(' ');
  },
  repeated_token: (r, script, sents) => {
    const w = pick(r, wordsOf(sents, r, script));
    return times(int(r, 50, 200), () => w).join(UNSPACED.has(script) && r() < 0.5 ? '' : ' ');
  },
  random_consonants: (r, script) => {
    const c = CONSONANTS[script];
    if (!c) return null;
    return times(int(r, 3, 12), () => times(int(r, 3, 9), () => pick(r, [...c])).join('')).join(' ');
  },
  keyboard_mash: (r, script) => {
    const rows = KEYBOARD_ROWS[script];
    if (!rows) return null;
    // A hand sliding over neighbouring keys, now and then jumping to another row.
    const token = (): string => {
      let row = pick(r, rows);
      let k = int(r, 0, row.length - 1);
      return times(int(r, 4, 12), () => {
        if (r() < 0.15) row = pick(r, rows);
        k = Math.max(0, Math.min(row.length - 1, k + pick(r, [-2, -1, -1, 1, 1, 2])));
        return row[k]!;
      }).join('');
    };
    return times(int(r, 3, 10), token).join(' ');
  },
  boilerplate_page: (r) => times(int(r, 3, 8), () => pick(r, BOILERPLATE)).join('\n'),
  // Menu items are a word or two of the script, without sentence punctuation.
  navigation_menu: (r, script, sents) =>
    times(int(r, 2, 5), () =>
      times(int(r, 4, 8), () =>
        wordsOf(sents, r, script)
          .slice(0, int(r, 1, 2))
          .join(' ')
          .replace(/[\p{P}]+/gu, ''),
      ).join(pick(r, [' | ', ' • ', ' › ', ' · '])),
    ).join('\n'),
  digit_lines: (r) => times(int(r, 1, 5), () => times(int(r, 3, 10), () => times(int(r, 2, 8), () => String(int(r, 0, 9))).join('')).join(pick(r, [' ', ' - ', '  ', ', ']))).join('\n'),
  mojibake: (r, _s, sents) => {
    const s = pick(
      r,
      sents.filter((x) => /[^\x00-\x7f]/.test(x)),
    );
    return s === undefined ? null : mojibake(s, r() < 0.5);
  },
  html_js: (r, script, sents) => {
    const w = (): string =>
      wordsOf(sents, r, script)
        .slice(0, int(r, 1, 3))
        .join(' ');
    const html = (): string =>
      pick(r, [`<div class="nav"><a href="/p/${int(r, 1, 999)}">${w()}</a></div>`, `<li><span>${w()}</span></li>`, `<p><b>${w()}</b><br/></p>`, `<img src="/i/${int(r, 1, 99)}.png" alt="${w()}">`]);
    const js = (): string =>
      pick(r, [
        `var x${int(r, 1, 9)} = document.getElementById('m${int(r, 1, 99)}');`,
        `function show() { return window.location.href; }`,
        `if (a > 0) { console.log(a); }`,
        `const items = [1, 2, 3].map((i) => { return i * 2; });`,
      ]);
    return times(int(r, 2, 8), () => (r() < 0.6 ? html() : js())).join('\n');
  },
};

/**
 * `perKind` rows of every kind in every script it applies to (consonant strings and keyboard mash
 * need an alphabet with vowels). `clean` maps a script to clean sentences written in it.
 */
export function plantedJunk(clean: Record<string, readonly string[]>, perKind: number, seed = 7): JunkRow[] {
  const r = rng(seed);
  const out: JunkRow[] = [];
  for (const kind of Object.keys(GENERATORS) as JunkKind[]) {
    for (const script of Object.keys(clean).sort()) {
      for (let i = 0; i < perKind; i++) {
        const text = GENERATORS[kind](r, script, clean[script]!);
        if (text === null) break;
        out.push({ kind, expected: JUNK_KINDS[kind], script, text });
      }
    }
  }
  return out;
}
