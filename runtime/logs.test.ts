import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FunctionLogs, type LogLine } from './logs.ts';

const line = (i: number): LogLine => ({ time: i, function: 'f', requestId: `r${i}`, level: 'info', source: 'log', message: `line ${i}` });

describe('function logs', () => {
  it('keeps the last 1000 lines of each function, oldest first', () => {
    const logs = new FunctionLogs(pino({ level: 'silent' }));
    for (let i = 0; i < 1500; i++) logs.write(line(i));
    expect(logs.tail('f', 3).map((l) => l.message)).toEqual(['line 1497', 'line 1498', 'line 1499']);
    const all = logs.tail('f', 5000);
    expect(all).toHaveLength(1000);
    expect(all[0]!.message).toBe('line 500');
    expect(all.every((l, i) => l.time === 500 + i)).toBe(true);
    expect(logs.tail('other', 10)).toEqual([]);
  });

  it('passes new lines to followers until they stop', () => {
    const logs = new FunctionLogs(pino({ level: 'silent' }));
    const seen: string[] = [];
    const stop = logs.follow('f', (l) => seen.push(l.message));
    logs.write(line(1));
    stop();
    logs.write(line(2));
    expect(seen).toEqual(['line 1']);
  });
});
