/** Length in Unicode code points (what users mean by "characters"), not UTF-16 units. */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) n--;
  }
  return n;
}

const MARKS_G = /\p{M}+/gu;

/** Letters without their diacritics ("ọ̀" -> "o"): decomposed, combining marks removed, recomposed. */
export function stripMarks(s: string): string {
  return s.normalize('NFD').replace(MARKS_G, '').normalize('NFC');
}
