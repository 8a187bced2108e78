import jsqrModule from 'jsqr';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { buildOtpauthUri } from './otpauth-uri.js';
import { qrPngDataUrl, qrSvg } from './qr.js';

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
});
