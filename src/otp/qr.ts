import jsqrModule from 'jsqr';
import { PNG } from 'pngjs';
import { toDataURL, toString } from 'qrcode';

// jsqr is a CommonJS bundle whose types declare an ES default export; under nodenext the
// default import is module.exports, and the function sits on its `default` property.
const jsQR = jsqrModule.default;

// Level M survives ~15% damage (glare, creases); margin 2 keeps the quiet zone scanners need
// while staying compact next to other UI.
const OPTIONS = { errorCorrectionLevel: 'M', margin: 2 } as const;

/** `data:image/png;base64,...` for an <img src>. */
export function qrPngDataUrl(text: string): Promise<string> {
  return toDataURL(text, { ...OPTIONS, type: 'image/png' });
}

/** A standalone `<svg>` document. */
export function qrSvg(text: string): Promise<string> {
  return toString(text, { ...OPTIONS, type: 'svg' });
}

/** The image is not a PNG this service reads, or no QR code can be found in it. */
export class UnreadableQrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableQrError';
  }
}

/** Pixels a QR image may have: a phone screenshot fits; decoding costs 4 bytes a pixel. */
export const MAX_QR_PIXELS = 4_000_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The text of the QR code in a PNG image (a screenshot of an authenticator's export screen). */
export function readQrPng(png: Buffer): string {
  // The size is read from the header before decoding, so a small file cannot unpack into gigabytes.
  if (png.length < 24 || !png.subarray(0, 8).equals(PNG_SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new UnreadableQrError('The image is not a PNG.');
  }
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  if (width * height > MAX_QR_PIXELS) {
    throw new UnreadableQrError(`The image has more than ${MAX_QR_PIXELS} pixels (${width}×${height}).`);
  }
  let image: PNG;
  try {
    image = PNG.sync.read(png);
  } catch {
    throw new UnreadableQrError('The PNG image is damaged.');
  }
  const code = jsQR(
    new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length),
    image.width,
    image.height,
  );
  if (!code) throw new UnreadableQrError('No QR code was found in the image.');
  return code.data;
}
