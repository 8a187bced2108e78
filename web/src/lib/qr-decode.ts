/** Reads the text of a QR code in an image file, in the browser (jsQR over canvas pixels). */
export async function decodeQrImage(file: File): Promise<string> {
  const { default: jsQR } = await import('jsqr');
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('This browser cannot read images');
  // QR images are often black on transparent: paint white first.
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0, width, height);
  const pixels = context.getImageData(0, 0, width, height);
  const found = jsQR(pixels.data, width, height, { inversionAttempts: 'attemptBoth' });
  if (!found?.data) throw new Error('No QR code found in this image');
  return found.data;
}
