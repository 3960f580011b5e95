// An uploaded file part: held in memory (a view into the request body) when small,
// spilled to a private temp file above the threshold.
import { fs, fsPromises } from '../builtins.ts';
import { Readable } from 'node:stream';

export class UploadedFile {
  constructor(
    /** The form field name. */
    readonly fieldName: string,
    /** The client's file name (may be empty; never trust it as a path). */
    readonly filename: string,
    /** The part's Content-Type (default `application/octet-stream`). */
    readonly contentType: string,
    /** Size in bytes. */
    readonly size: number,
    /** Path of the temp file holding the content, or null when it is in memory. Removed after the response. */
    readonly tempFile: string | null,
    /** The content when held in memory, or null when spilled to `tempFile`. */
    readonly buffer: Buffer | null,
  ) {}

  /** The whole content. */
  async bytes(): Promise<Buffer> {
    return this.buffer ?? fsPromises().readFile(this.tempFile!);
  }

  /** The content as UTF-8 text. */
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  /** A stream of the content. */
  stream(): Readable {
    return this.buffer !== null ? Readable.from([this.buffer]) : fs().createReadStream(this.tempFile!);
  }

  toJSON(): object {
    return { fieldName: this.fieldName, filename: this.filename, contentType: this.contentType, size: this.size };
  }
}
