/** Person names in their comparable form (the `derive` kinds' name part). */
import { describe, expect, it } from 'vitest';
import { comparableName } from '../../../pipelines/resolve/names.js';

describe('comparableName', () => {
  it.each([
    ['张伟', '张伟'],
    ['张 伟', '张伟'],
    [' 张伟 ', '张伟'],
    ['欧阳　娜', '欧阳娜'], // full-width space
    ['Emily Carter', 'carter emily'],
    ['CARTER EMILY', 'carter emily'],
    ['Carter,  Emily', 'carter emily'],
    ['Ｅｍｉｌｙ Carter', 'carter emily'], // full-width letters
    ['张伟🌸', '张伟'],
    ['张伟2024', '张伟'],
    ['Zhang Wei', 'wei zhang'],
    ['🌸★', null],
    ['', null],
    [null, null],
    [42, null],
  ])('%j → %j', (input, expected) => {
    expect(comparableName(input)).toBe(expected);
  });

  it('never equates a name with its transliteration', () => {
    expect(comparableName('张伟')).not.toBe(comparableName('Zhang Wei'));
  });
});
