import jsqrModule from 'jsqr';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { buildOtpauthUri } from './otpauth-uri.js';
import { MAX_QR_PIXELS, qrPngDataUrl, qrSvg, readQrPng, UnreadableQrError } from './qr.js';

// jsqr is a CommonJS bundle whose types declare an ES default export; under nodenext the
// default import is module.exports, and the function sits on its `default` property.
const jsQR = jsqrModule.default;

const uri = buildOtpauthUri({
  type: 'totp',
  issuer: 'ACME Co',
  accountName: 'jöhn@example.com',
  secret: Buffer.from('12345678901234567890', 'ascii'),
  algorithm: 'sha1',
  digits: 6,
  period: 30,
});

describe('qr', () => {
  it('renders a PNG data URL that decodes back to the otpauth URI', async () => {
    const dataUrl = await qrPngDataUrl(uri);
    const prefix = 'data:image/png;base64,';
    expect(dataUrl.startsWith(prefix)).toBe(true);
    const png = PNG.sync.read(Buffer.from(dataUrl.slice(prefix.length), 'base64'));
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(decoded?.data).toBe(uri);
  });

  it('renders an SVG document with a path', async () => {
    const svg = await qrSvg(uri);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('<path');
  });

  it('reads back the text of a QR code in a PNG', async () => {
    const dataUrl = await qrPngDataUrl(uri);
    expect(readQrPng(Buffer.from(dataUrl.split(',')[1]!, 'base64'))).toBe(uri);
  });

  it('refuses a PNG without a QR code, a damaged PNG and a file that is no PNG', async () => {
    const blank = new PNG({ width: 50, height: 50 });
    blank.data.fill(255);
    const png = PNG.sync.write(blank);
    expect(() => readQrPng(png)).toThrow(new UnreadableQrError('No QR code was found in the image.'));
    expect(() => readQrPng(png.subarray(0, png.length - 20))).toThrow(UnreadableQrError);
    expect(() => readQrPng(Buffer.from('GIF89a……………………………………'))).toThrow(
      new UnreadableQrError('The image is not a PNG.'),
    );
  });

  it('refuses an image larger than MAX_QR_PIXELS from its header, before decoding it', () => {
    const png = PNG.sync.write(new PNG({ width: 1, height: 1 }));
    // Claim 5000×5000 in the header; decoding would fail on the data, so the message shows the header was read first.
    png.writeUInt32BE(5000, 16);
    png.writeUInt32BE(5000, 20);
    expect(5000 * 5000).toBeGreaterThan(MAX_QR_PIXELS);
    expect(() => readQrPng(png)).toThrow(/more than 4000000 pixels \(5000×5000\)/);
  });
});
