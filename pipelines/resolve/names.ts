/**
 * Person names as identity resolution compares them. Systems write one name many ways:
 * `张伟`, `张 伟`, `ZHANG WEI`, `Wei Zhang`. The comparable form folds what does not tell
 * people apart: Unicode width (NFKC), case, spacing, and everything that is not a letter
 * (emoji, digits, punctuation). Latin words are sorted, so the family name may come first
 * or last; CJK characters are kept in order without spaces. Different scripts are never
 * equal (`张伟` is not `Zhang Wei`): that would take transliteration, and a missed match
 * only leaves records apart, where a false one would merge people.
 */

const HAN = /\p{Script=Han}/u;
const NOT_LETTER = /[^\p{L}\p{M}]+/gu;

/** The comparable form of a person's name, or null when nothing is left (emoji only, empty). */
export function comparableName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const words = value.normalize('NFKC').toLowerCase().replace(NOT_LETTER, ' ').trim().split(' ').filter(Boolean);
  if (words.length === 0) return null;
  if (words.every((w) => HAN.test(w))) return words.join('');
  return words.sort().join(' ');
}
