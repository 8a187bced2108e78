/** The API-type generator (gen-api.mjs), as the tests call it. */
export const SCHEMA_FILE: string;
export function generateApiTypes(document: unknown): Promise<string>;
