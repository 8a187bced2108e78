import { notifications } from '@mantine/notifications';
import { ApiError } from '../api/client';

/** Shows what the service said (its problem `detail`, and when to retry), never a bare "error". */
export function notifyError(error: unknown, title?: string): void {
  const message = error instanceof Error ? error.message : String(error);
  const heading = title ?? (error instanceof ApiError ? error.title : 'Something went wrong');
  notifications.show({ color: 'red', title: heading, message, autoClose: 8000 });
}

export function notifySuccess(message: string, title?: string): void {
  notifications.show({ color: 'green', title, message, autoClose: 3000 });
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Copies text to the clipboard and says so in a toast. */
export async function copyText(text: string, what = 'Copied'): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    notifications.show({ color: 'teal', message: `${what} to the clipboard`, autoClose: 2000 });
  } catch (error) {
    notifyError(error, 'Could not copy');
  }
}

export function download(filename: string, content: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
