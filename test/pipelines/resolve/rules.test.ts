/**
 * Identity rules from config: blocked values compared in normal form, the linking order,
 * survivorship per field, and the config errors of `identity.survivorship` and `attributes`
 * with their positions.
 */
import { describe, expect, it } from 'vitest';
import { linkableKeys } from '../../../pipelines/resolve/keys.js';
import { resolveRules } from '../../../pipelines/resolve/rules.js';
import { BASE, load, yaml } from '../../config/yaml-fixtures.js';

const IDENTITY = yaml(`
  identity:
    default_region: CN
    kinds:
      crm_id: { priority: 100 }
      email: { priority: 50, normalize: email, blocked: [" Test@Test.com "] }
      phone: { priority: 40, normalize: phone, blocked: ["138 0000 0000"], cardinality_cap: 3 }
    survivorship:
      default: most_recent
      sources: [shop]
      fields:
        name: { rule: source_priority }
        created_at: { rule: first_non_null }
  attributes:
    loyalty_points: { type: integer }
`);

describe('derived kinds', () => {
  const DERIVED = yaml(`
    identity:
      kinds:
        email: { priority: 50, normalize: email }
        phone: { priority: 40, normalize: phone, blocked: ["13800000000"], cardinality_cap: 1 }
        phone_name: { priority: 35, derive: { kind: phone, fields: [name, nickname] }, cardinality_cap: 1, blocked: ["139 1111 2222|王 伟"] }
  `);

  it.each([
    ['a phone and a name', [['phone', '+8613912345678']], { name: '张 伟' }, ['phone:+8613912345678', 'phone_name:+8613912345678|张伟']],
    ['each name field, once per distinct name', [['phone', '+8613912345678']], { name: 'Wei Zhang', nickname: 'ZHANG WEI' }, ['phone:+8613912345678', 'phone_name:+8613912345678|wei zhang']],
    ['two names', [['phone', '+8613912345678']], { name: '张伟', nickname: '小张🌸' }, ['phone:+8613912345678', 'phone_name:+8613912345678|小张', 'phone_name:+8613912345678|张伟']],
    ['two phones', [['phone', '+8613912345678'], ['phone', '+8613912345679']], { name: '张伟' },
      ['phone:+8613912345678', 'phone:+8613912345679', 'phone_name:+8613912345678|张伟', 'phone_name:+8613912345679|张伟']],
    ['no name', [['phone', '+8613912345678']], { nickname: '🌸' }, ['phone:+8613912345678']],
    ['no phone', [['email', 'a@b.cn']], { name: '张伟' }, ['email:a@b.cn']],
    ['a blocked phone', [['phone', '+8613800000000']], { name: '张伟' }, []],
    ['a blocked phone and name (written in any form)', [['phone', '+8613911112222']], { name: '王伟', nickname: 'Leo' }, ['phone:+8613911112222', 'phone_name:+8613911112222|leo']],
    ['a derived kind written by a mapping (ignored)', [['phone_name', 'x|y']], { name: '张伟' }, []],
  ] as const)('%s', async (_what, ids, fields, expected) => {
    const { config, errors } = await load({ 'junction.yaml': BASE + DERIVED });
    expect(errors).toEqual([]);
    const rules = resolveRules(config!);
    expect(rules.derived.map((k) => k.kind)).toEqual(['phone_name']);
    expect(linkableKeys(ids.map(([kind, value]) => ({ kind, value })), rules, fields)).toEqual(expected);
  });
});

describe('identity rules', () => {
  it('builds kinds, blocked values in normal form, link order and field rules from config', async () => {
    const { config, errors } = await load({ 'junction.yaml': BASE + IDENTITY });
    expect(errors).toEqual([]);
    const rules = resolveRules(config!);
    expect(rules.linkOrder).toEqual(['crm_id', 'email', 'phone']);
    expect(rules.kinds.get('phone')).toMatchObject({ cap: 3 });
    expect(rules.kinds.get('crm_id')).toMatchObject({ cap: null });
    const keys = linkableKeys(
      [
        { kind: 'email', value: 'test@test.com' },
        { kind: 'phone', value: '+8613800000000' },
        { kind: 'phone', value: '+8613912345678' },
        { kind: 'unknown', value: 'x' },
        { kind: 'crm_id', value: '  ' },
        { kind: 'crm_id', value: 'C1' },
        { kind: 'crm_id', value: 'C1' },
      ],
      rules,
    );
    expect(keys).toEqual(['crm_id:C1', 'phone:+8613912345678']);
    expect(rules.fieldRules.get('name')).toEqual({ rule: 'source_priority', sources: ['shop'] });
    expect(rules.fieldRules.get('created_at')).toEqual({ rule: 'first_non_null', sources: ['shop'] });
    expect(rules.fieldRules.get('city')).toEqual({ rule: 'most_recent', sources: ['shop'] });
    expect(rules.attributes).toEqual(new Map([['loyalty_points', 'integer']]));
  });

  it.each([
    [
      'a survivorship rule for an unknown field',
      `identity:\n  survivorship:\n    fields:\n      shoe_size: { rule: most_recent }\n`,
      'junction.yaml:11:18 CFG_UNKNOWN_REF',
    ],
    [
      'source_priority without sources',
      `identity:\n  survivorship:\n    fields:\n      name: { rule: source_priority }\n`,
      'junction.yaml:11:21 CFG_MISSING_KEY',
    ],
    [
      'an unknown source in a priority list',
      `identity:\n  survivorship:\n    fields:\n      name: { rule: source_priority, sources: [shop, crm] }\n`,
      'junction.yaml:11:54 CFG_UNKNOWN_REF',
    ],
    [
      'cardinality_by naming an undeclared kind',
      `identity:\n  kinds:\n    phone: { priority: 1, cardinality_cap: 1, cardinality_by: [email] }\n`,
      'junction.yaml:10:64 CFG_UNKNOWN_REF',
    ],
    [
      'derive from an undeclared kind',
      `identity:\n  kinds:\n    phone_name: { priority: 1, derive: { kind: phone, fields: [name] } }\n`,
      'junction.yaml:10:48 CFG_UNKNOWN_REF',
    ],
    [
      'derive from a derived kind',
      `identity:\n  kinds:\n    phone: { priority: 2 }\n    a: { priority: 1, derive: { kind: phone, fields: [name] } }\n    b: { priority: 1, derive: { kind: a, fields: [name] } }\n`,
      'junction.yaml:12:39 CFG_UNKNOWN_REF',
    ],
    [
      'derive with a field of no target',
      `identity:\n  kinds:\n    phone: { priority: 2 }\n    phone_name: { priority: 1, derive: { kind: phone, fields: [name, shoe_size] } }\n`,
      'junction.yaml:11:70 CFG_UNKNOWN_REF',
    ],
    ['an attribute named like a model field', `attributes:\n  email: { type: string }\n`, 'junction.yaml:9:10 CFG_DUPLICATE_NAME'],
    ['an attribute of an unknown type', `attributes:\n  points: { type: money }\n`, 'junction.yaml:9:19 CFG_INVALID_VALUE'],
  ])('reports %s with its position', async (_what, extra, code) => {
    const { codes } = await load({ 'junction.yaml': BASE + extra });
    expect(codes).toEqual([code]);
  });
});
