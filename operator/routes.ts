// Which routes two functions would fight over on one pod. The runtime refuses to load a
// function whose route another function already serves (runtime/function-table.ts), so
// the scheduler keeps such functions on different pods. The key is the method plus the
// path with parameter names erased, the same shape the runtime compares.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

export function routeKeys(routes: string[]): string[] {
  const keys = new Set<string>();
  for (const route of routes) {
    const match = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(route);
    if (!match) continue;
    const method = match[1]!.toUpperCase();
    const shape = match[2]!.replace(/:[^/]+/g, ':');
    const methods = method === 'ANY' ? METHODS : method === 'GET' ? ['GET', 'HEAD'] : [method];
    for (const m of methods) keys.add(`${m} ${shape}`);
  }
  return [...keys];
}
