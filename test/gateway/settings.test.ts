/**
 * `gateway.trust_proxy` as the config loader takes it: what express's 'trust proxy' accepts
 * that is safe (false, a hop count, proxy addresses checked by proxy-addr), and errors that
 * point at the line for the rest (`true` would let any client name its own address).
 */
import { describe, expect, it } from 'vitest';
import { BASE, load } from '../config/yaml-fixtures.js';

const withTrust = (value: string) => ({ 'junction.yaml': `${BASE}gateway:\n  trust_proxy: ${value}\n` });

describe('gateway.trust_proxy', () => {
  it('is false by default', async () => {
    const { config, errors } = await load({ 'junction.yaml': BASE });
    expect(errors).toEqual([]);
    expect(config!.gateway.trust_proxy).toBe(false);
  });

  it.each([
    ['false', false],
    ['2', 2],
    ['[loopback, 10.0.0.0/8, "::1", 192.168.1.7]', ['loopback', '10.0.0.0/8', '::1', '192.168.1.7']],
  ])('accepts %s', async (value, expected) => {
    const { config, errors } = await load(withTrust(value));
    expect(errors).toEqual([]);
    expect(config!.gateway.trust_proxy).toEqual(expected);
  });

  it.each([
    ['true', 'junction.yaml:9:16 CFG_INVALID_TYPE', /true is refused/],
    ['0', 'junction.yaml:9:16 CFG_INVALID_VALUE', /must be >= 1/],
    ['[loopback, 10.0.0.0/33]', 'junction.yaml:9:27 CFG_INVALID_VALUE', /invalid proxy address "10\.0\.0\.0\/33"/],
    ['[proxy.example.com]', 'junction.yaml:9:17 CFG_INVALID_VALUE', /invalid proxy address "proxy\.example\.com"/],
  ])('refuses %s where it is written', async (value, where, message) => {
    const { codes, errors } = await load(withTrust(value));
    expect(codes).toEqual([where]);
    expect(errors[0]).toMatch(message);
  });
});
