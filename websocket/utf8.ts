// Incremental UTF-8 validation (RFC 3629) that rejects as early as possible: the state
// after each byte says exactly which bytes may come next, so a sequence that can no
// longer become valid (overlong, surrogate, > U+10FFFF, bad continuation) fails on the
// byte that makes it impossible, even in the middle of a fragmented message.
import { isUtf8 } from './builtins.ts';

/** Validator state: 0 = at a character boundary, -1 = invalid, other values = inside a sequence. */
export type Utf8State = number;

export const UTF8_ACCEPT = 0;
export const UTF8_REJECT = -1;

// States inside a sequence: which continuation byte range is allowed next.
const NEED1 = 1; // one more 80..BF
const NEED2 = 2; // two more 80..BF
const NEED3 = 3; // three more 80..BF
const E0 = 4; // after E0: A0..BF then NEED1 (no overlongs)
const ED = 5; // after ED: 80..9F then NEED1 (no surrogates)
const F0 = 6; // after F0: 90..BF then NEED2 (no overlongs)
const F4 = 7; // after F4: 80..8F then NEED2 (nothing above U+10FFFF)

function step(state: number, b: number): number {
  switch (state) {
    case UTF8_ACCEPT:
      if (b < 0x80) return UTF8_ACCEPT;
      if (b < 0xc2) return UTF8_REJECT; // continuation byte or overlong C0/C1
      if (b < 0xe0) return NEED1;
      if (b === 0xe0) return E0;
      if (b === 0xed) return ED;
      if (b < 0xf0) return NEED2;
      if (b === 0xf0) return F0;
      if (b < 0xf4) return NEED3;
      if (b === 0xf4) return F4;
      return UTF8_REJECT;
    case NEED1:
      return b >= 0x80 && b <= 0xbf ? UTF8_ACCEPT : UTF8_REJECT;
    case NEED2:
      return b >= 0x80 && b <= 0xbf ? NEED1 : UTF8_REJECT;
    case NEED3:
      return b >= 0x80 && b <= 0xbf ? NEED2 : UTF8_REJECT;
    case E0:
      return b >= 0xa0 && b <= 0xbf ? NEED1 : UTF8_REJECT;
    case ED:
      return b >= 0x80 && b <= 0x9f ? NEED1 : UTF8_REJECT;
    case F0:
      return b >= 0x90 && b <= 0xbf ? NEED2 : UTF8_REJECT;
    case F4:
      return b >= 0x80 && b <= 0x8f ? NEED2 : UTF8_REJECT;
    default:
      return UTF8_REJECT;
  }
}

/**
 * Feed `buf` to the validator in `state`; returns the new state. UTF8_REJECT means the
 * bytes seen so far cannot start any valid text; UTF8_ACCEPT means they end on a
 * character boundary. Long runs are checked with the native validator.
 */
export function utf8Continue(state: Utf8State, buf: Uint8Array): Utf8State {
  const len = buf.length;
  let i = 0;
  // Finish a sequence left open by the previous fragment.
  while (state !== UTF8_ACCEPT && i < len) {
    state = step(state, buf[i++]!);
    if (state === UTF8_REJECT) return state;
  }
  if (i === len) return state;
  // Everything before the last (possibly incomplete) sequence goes to the native check.
  let cut = len;
  const stop = Math.max(i, len - 3);
  for (let j = len - 1; j >= stop; j--) {
    const b = buf[j]!;
    if (b < 0x80) break;
    if (b >= 0xc0) {
      cut = j;
      break;
    }
  }
  if (cut > i) {
    const ok = i === 0 && cut === len ? isUtf8(buf) : isUtf8(buf.subarray(i, cut));
    if (!ok) {
      // Locate the failure byte by byte (only on the error path) to keep fail-fast exact.
      for (let j = i; j < cut; j++) {
        state = step(state, buf[j]!);
        if (state === UTF8_REJECT) return state;
      }
      return UTF8_REJECT;
    }
  }
  for (let j = cut; j < len; j++) {
    state = step(state, buf[j]!);
    if (state === UTF8_REJECT) return state;
  }
  return state;
}
