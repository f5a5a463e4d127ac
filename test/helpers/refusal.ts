import { expect } from 'vitest';
import { RefusedError } from '../../src/errors.js';

/** Runs `fn`, which must refuse (exit 3); returns the refusal's message. */
export function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RefusedError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}
