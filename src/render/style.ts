/** Colour for human output: on only when the stream is a TTY and neither NO_COLOR nor --no-color is set. */
import { Chalk, type ChalkInstance } from 'chalk';

export function makeStyle(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}

export function colorWanted(stream: { isTTY?: boolean }, noColorFlag: boolean, env: NodeJS.ProcessEnv): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export { formatBytes } from '../units.js';
