/** Record ids in the pages' paths and forms. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` is a UUID (any case): a page answers anything else Not Found without touching the store. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
