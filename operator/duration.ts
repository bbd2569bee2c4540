// Durations on the command line and in config: "15s", "1500ms", "2m" or a bare number of seconds.
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(text).trim());
  if (!match) throw new Error(`--${flag} expects a duration like 15s, 1500ms or 2m, got "${text}"`);
  const n = Number(match[1]);
  return Math.round(match[2] === 'ms' ? n : match[2] === 'm' ? n * 60_000 : n * 1000);
}
