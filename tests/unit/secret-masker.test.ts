import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../apps/core/domain/secret-masker.js';

const secrets = (...values: string[]) => new SecretMasker(values.map((value, i) => ({ name: `S${i}`, value })));

describe('SecretMasker', () => {
  it('replaces every whole secret with ***, the longer of two overlapping first', () => {
    const masker = secrets('hunter22', 'hunter22-and-more', 'pa$$(word)');
    expect(masker.mask('a hunter22 b hunter22-and-more c pa$$(word) d')).toBe('a *** b *** c *** d');
    expect(masker.mask('nothing here')).toBe('nothing here');
  });

  it('leaves secrets shorter than 4 characters unmasked and names them, never their values', () => {
    const masker = new SecretMasker([{ name: 'kind "x" secretEnv PIN', value: '123' }, { name: 'EMPTY', value: '' }, { name: 'OK', value: 'long-enough' }]);
    expect(masker.tooShort).toEqual(['kind "x" secretEnv PIN']);
    expect(masker.mask('123 long-enough')).toBe('123 ***');
  });

  it('masks a tail that starts inside a secret, and a live log that ends inside one', () => {
    const masker = secrets('s3cr3t-value-42');
    expect(masker.mask('t-value-42 then more', { cutStart: true })).toBe('*** then more');
    expect(masker.mask('t-value-42 then more')).toBe('t-value-42 then more');
    expect(masker.mask('printing s3cr3t-va', { cutEnd: true })).toBe('printing ***');
    // Two characters of a 15-character secret at a live end are left, so ordinary endings stay.
    expect(masker.mask('ends with s3', { cutEnd: true })).toBe('ends with s3');
  });

  it('masks a stream split anywhere exactly as the whole text: chunks that split a secret leak nothing', () => {
    const masker = secrets('abab', 'secret-value', 'value-x');
    const texts = ['xx secret-value yy abababab zz value-x secret-valu', 'ababab', 'secret-value-x', 'a secret-value', 'sec'];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const text of texts) {
      for (let round = 0; round < 200; round++) {
        const stream = masker.stream();
        let out = '';
        let at = 0;
        while (at < text.length) {
          const size = 1 + Math.floor(random() * 5);
          out += stream.push(text.slice(at, at + size));
          at += size;
        }
        out += stream.end();
        expect(out, text).toBe(masker.mask(text));
        expect(out).not.toContain('secret-value');
      }
    }
  });
});
