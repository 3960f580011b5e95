// Field names as strings. (Interning of common names lives here.)
import { latin1 } from './chars.ts';

export function fieldName(buf: Buffer, start: number, end: number): string {
  return latin1(buf, start, end);
}
