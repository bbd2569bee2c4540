// Layotto names a function by the id its module reports (`proxy_get_id`, e.g. "id_1") and
// routes and invokes by that id. L8 function names are stricter (lower-case letters,
// digits and "-"), so an id maps to a name by one fixed rule, used everywhere an id turns
// into a function: the Layotto listener's `id` header, proxy_invoke_service targets, and
// installs through the Layotto admin endpoints or a Layotto config file.
import { FUNCTION_NAME } from '../../functions/manifest.ts';

export class FunctionIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FunctionIdError';
  }
}

/**
 * The L8 function name for a Layotto function id: the id itself when it is already a valid
 * name, otherwise lower-cased with every run of other characters turned into "-"
 * ("id_1" -> "id-1", "Book.Store" -> "book-store").
 */
export function functionNameForId(id: string): string {
  if (FUNCTION_NAME.test(id)) return id;
  const name = id
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .replace(/-+$/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  if (!FUNCTION_NAME.test(name)) {
    throw new FunctionIdError(`function id ${JSON.stringify(id)} has no letters or digits, so it cannot name an L8 function`);
  }
  return name;
}
