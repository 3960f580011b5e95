// Shared result slot for the line scanners: each parser owns one, reused for every line
// (no allocation per line). Scanners return the index after the line's LF, or one of:

/** The line is not complete in the bytes given; nothing was recorded. */
export const INCOMPLETE = -1;
/** The line is invalid; `error` and `errorAt` say why and where. */
export const FAILED = -2;

export class LineScan {
  /** Field line: end of the name (index of ':'); -1 for the empty line ending the section. */
  nameEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  /** Chunk-size line: the size, and the bytes of its extensions (from the first ';' to the CR). */
  size = 0;
  extLength = 0;
  /** Error id from errors.ts and the index of the offending byte in the scanned buffer. */
  error = 0;
  errorAt = 0;
  /**
   * Index of the byte that decided the error: errorAt, or later when the verdict on an
   * earlier byte had to wait for more of the line (a bad version or a space in the
   * target). Line limits compare against it, so that every split gives the same error.
   */
  decidedAt = 0;

  fail(error: number, at: number): number {
    this.error = error;
    this.errorAt = at;
    this.decidedAt = at;
    return FAILED;
  }
}
