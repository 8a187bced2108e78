/**
 * Loads `.env` from the working directory into process.env when the file exists (Node's own
 * parser, `process.loadEnvFile`). A variable already set in the environment wins, even empty.
 * Called by every entry point (service, command line, migrations) before the configuration is read.
 */
export function loadEnvFile(path = '.env'): boolean {
  try {
    process.loadEnvFile(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
