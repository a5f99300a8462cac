import { describe, expect, it } from 'vitest';
import { CONTAINER_NAME_PATTERN, containerNameFor } from '../../apps/core/domain/container-name.js';

const isValidContainerName = (name: string) => CONTAINER_NAME_PATTERN.test(name);
import { newJobId } from '../../apps/core/domain/job-id.js';

describe('containerNameFor', () => {
  it('reads a job id back plainly when it is already a clean name', () => {
    const id = newJobId();
    expect(containerNameFor(id)).toBe(`task-${id}`);
    expect(isValidContainerName(containerNameFor(id))).toBe(true);
  });

  it('is deterministic', () => {
    expect(containerNameFor('Job_42')).toBe(containerNameFor('Job_42'));
  });

  it('always gives a valid ACI name, whatever the id', () => {
    const ids = [
      '',
      '-',
      'A',
      'Job_42',
      '--a--b--',
      'x'.repeat(200),
      'ünïcödé ✓',
      '123e4567-E89B-12d3-A456-426614174000',
      `${'a-'.repeat(40)}b`,
      '../../etc/passwd',
    ];
    for (let i = 0; i < 200; i++) ids.push(String.fromCharCode(...Array.from({ length: i % 90 }, (_, j) => 32 + ((i * 7 + j * 13) % 95))));
    for (const id of ids) {
      const name = containerNameFor(id);
      expect(isValidContainerName(name), `${JSON.stringify(id)} → ${name}`).toBe(true);
    }
  });

  it('keeps ids that clean to the same text apart', () => {
    const names = new Set(['Job_42', 'job-42', 'JOB 42', 'job--42', 'job_42'].map(containerNameFor));
    expect(names.size).toBe(5);
  });

  it('rejects what ACI rejects', () => {
    for (const bad of ['', 'A', '-a', 'a-', 'a--b', 'a_b', 'a'.repeat(64)]) expect(isValidContainerName(bad)).toBe(false);
    expect(isValidContainerName('a'.repeat(63))).toBe(true);
  });
});

describe('newJobId', () => {
  it('makes UUIDv7 ids that sort in the order they were made', () => {
    const ids = Array.from({ length: 5000 }, () => newJobId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids.slice(0, 10)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('orders by time across milliseconds', () => {
    expect(newJobId(1_000) < newJobId(2_000_000_000_000)).toBe(true);
  });
});
