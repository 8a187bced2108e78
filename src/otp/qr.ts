import { toDataURL, toString } from 'qrcode';

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
