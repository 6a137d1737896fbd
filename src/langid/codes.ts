/**
 * cld3 reports ISO 639-1 (or its own) codes; winnow reports ISO 639-3 (individual language, as in
 * FLORES-200 tags). This maps cld3's 107 languages.
 */
export const CLD3_TO_ISO3: Record<string, string> = {
  af: 'afr',
  am: 'amh',
  ar: 'arb',
  bg: 'bul',
  'bg-Latn': 'bul',
  bn: 'ben',
  bs: 'bos',
  ca: 'cat',
  ceb: 'ceb',
  co: 'cos',
  cs: 'ces',
  cy: 'cym',
  da: 'dan',
  de: 'deu',
  el: 'ell',
  'el-Latn': 'ell',
  en: 'eng',
  eo: 'epo',
  es: 'spa',
  et: 'est',
  eu: 'eus',
  fa: 'pes',
  fi: 'fin',
  fil: 'tgl',
  fr: 'fra',
  fy: 'fry',
  ga: 'gle',
  gd: 'gla',
  gl: 'glg',
  gu: 'guj',
  ha: 'hau',
  haw: 'haw',
  hi: 'hin',
  'hi-Latn': 'hin',
  hmn: 'hmn',
  hr: 'hrv',
  ht: 'hat',
  hu: 'hun',
  hy: 'hye',
  id: 'ind',
  ig: 'ibo',
  is: 'isl',
  it: 'ita',
  iw: 'heb',
  ja: 'jpn',
  'ja-Latn': 'jpn',
  jv: 'jav',
  ka: 'kat',
  kk: 'kaz',
  km: 'khm',
  kn: 'kan',
  ko: 'kor',
  ku: 'kmr',
  ky: 'kir',
  la: 'lat',
  lb: 'ltz',
  lo: 'lao',
  lt: 'lit',
  lv: 'lvs',
  mg: 'plt',
  mi: 'mri',
  mk: 'mkd',
  ml: 'mal',
  mn: 'khk',
  mr: 'mar',
  ms: 'zsm',
  mt: 'mlt',
  my: 'mya',
  ne: 'npi',
  nl: 'nld',
  no: 'nob',
  ny: 'nya',
  pa: 'pan',
  pl: 'pol',
  ps: 'pbt',
  pt: 'por',
  ro: 'ron',
  ru: 'rus',
  'ru-Latn': 'rus',
  sd: 'snd',
  si: 'sin',
  sk: 'slk',
  sl: 'slv',
  sm: 'smo',
  sn: 'sna',
  so: 'som',
  sq: 'als',
  sr: 'srp',
  st: 'sot',
  su: 'sun',
  sv: 'swe',
  sw: 'swh',
  ta: 'tam',
  te: 'tel',
  tg: 'tgk',
  th: 'tha',
  tr: 'tur',
  uk: 'ukr',
  ur: 'urd',
  uz: 'uzn',
  vi: 'vie',
  xh: 'xho',
  yi: 'ydd',
  yo: 'yor',
  zh: 'zho',
  'zh-Latn': 'zho',
  zu: 'zul',
};

/**
 * Codes that name the same language at different granularity (macrolanguage and members, old and new
 * codes). Used to compare a prediction with a target or a gold label, never to change a prediction.
 */
const GROUPS: string[][] = [
  ['swa', 'swh', 'swc'],
  ['ara', 'arb', 'arz', 'ary', 'apc', 'acm', 'ars'],
  ['kur', 'kmr', 'ckb', 'sdh'],
  ['ber', 'kab', 'tzm', 'zgh', 'shi', 'rif', 'taq', 'thv', 'tmh'],
  ['mon', 'khk', 'mvf'],
  ['uzb', 'uzn', 'uzs'],
  ['fas', 'pes', 'prs'],
  ['msa', 'zsm', 'ind'],
  ['zho', 'cmn', 'yue'],
  ['nor', 'nob', 'nno'],
  ['est', 'ekk'],
  ['lav', 'lvs'],
  ['yid', 'ydd'],
  ['sqi', 'als'],
  ['pus', 'pbt'],
  ['mlg', 'plt'],
  ['quy', 'que', 'quz'],
  ['fil', 'tgl'],
  ['aka', 'twi', 'fat'],
  ['ful', 'fuv', 'fuf', 'fuc', 'ffm', 'fue', 'fuh', 'fui', 'fuq'],
  ['orm', 'gaz', 'gax', 'hae', 'orc'],
  ['aze', 'azj', 'azb'],
];

const GROUP_OF = new Map<string, number>();
GROUPS.forEach((g, i) => g.forEach((c) => GROUP_OF.set(c, i)));

/** True when two ISO 639-3 codes denote the same language (possibly at different granularity). */
export function sameLanguage(a: string, b: string): boolean {
  if (a === b) return true;
  const ga = GROUP_OF.get(a);
  return ga !== undefined && ga === GROUP_OF.get(b);
}

/** "yor_Latn" -> "yor"; "yor" -> "yor". */
export function languagePart(tag: string): string {
  return tag.split(/[_-]/)[0]!.toLowerCase();
}

/**
 * Languages a character-trigram identifier confuses with each other on real text (close relatives
 * and varieties): with `langid.target`, a row predicted as a member of its target's group is kept,
 * since the evidence does not say it is another language. From the measurements (kin/run,
 * amh/tir, tsn/sot/nso, the Nguni languages, Swahili) and from the confusion tables of
 * `npm run bench -- langid` (Quechua varieties, Scots/English, Kongo/Lingala, Comorian/Swahili).
 */
const CONFUSABLE: string[][] = [
  ['kin', 'run'],
  ['amh', 'tir'],
  ['tsn', 'sot', 'nso'],
  ['zul', 'xho', 'ssw', 'nbl'],
  ['swh', 'swc', 'swa', 'swb'],
  ['quy', 'quz', 'que', 'qxu', 'quh', 'qvc', 'qug', 'qxn', 'qwh', 'qva', 'qvm', 'qvn', 'qvh', 'quc'],
  ['eng', 'sco'],
  ['lin', 'kng'],
];

const CONFUSABLE_OF = new Map<string, number>();
CONFUSABLE.forEach((g, i) => g.forEach((c) => CONFUSABLE_OF.set(c, i)));

/** True when two languages are the same or in one confusable group. */
export function confusable(a: string, b: string): boolean {
  if (sameLanguage(a, b)) return true;
  const g = CONFUSABLE_OF.get(a);
  return g !== undefined && g === CONFUSABLE_OF.get(b);
}

/** The confusable group of a language, for messages ("kin/run"). */
export function confusableGroup(lang: string): string[] {
  const g = CONFUSABLE_OF.get(lang);
  return g === undefined ? [lang] : CONFUSABLE[g]!;
}
