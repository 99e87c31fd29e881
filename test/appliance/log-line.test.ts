// The familiar console format the appliance has always printed.
import { describe, expect, it } from 'vitest';
import { formatLogTime, logLine, TETHER_LINE, UNCLEAN_SHUTDOWN_LINE } from '../../appliance/log-line.js';

describe('familiar log lines', () => {
  it('formats the date as `Mon, Jun 24 2013 10:30:12 EST` in the given zone', () => {
    // 2013-01-14 15:30:12 UTC is 10:30:12 EST, a Monday.
    expect(formatLogTime(new Date('2013-01-14T15:30:12Z'), 'America/New_York')).toBe('Mon, Jan 14 2013 10:30:12 EST');
    expect(logLine('Starting.', new Date('2013-01-14T15:30:12Z'), { timeZone: 'America/New_York' })).toBe('[Mon, Jan 14 2013 10:30:12 EST] [ktether] Starting.');
  });

  it('uses the zone’s own abbreviation, a zero-padded day and a 24-hour clock', () => {
    expect(formatLogTime(new Date('2013-06-03T22:05:09Z'), 'America/New_York')).toBe('Mon, Jun 03 2013 18:05:09 EDT');
    expect(formatLogTime(new Date('2013-06-24T00:00:01Z'), 'UTC')).toBe('Mon, Jun 24 2013 00:00:01 UTC');
    expect(formatLogTime(new Date('2013-01-14T15:30:12Z'), 'Europe/Berlin')).toBe('Mon, Jan 14 2013 16:30:12 CET');
  });

  it('matches the appliance’s line shapes', () => {
    expect(logLine('Starting ssh.', new Date(), {})).toMatch(/^\[[A-Z][a-z]{2}, [A-Z][a-z]{2} \d{2} \d{4} \d{2}:\d{2}:\d{2} \S+\] \[ktether\] Starting ssh\.$/);
    expect(TETHER_LINE).toBe('[tether]');
    expect(UNCLEAN_SHUTDOWN_LINE).toBe('tether pid file exists... unclean shutdown?');
  });
});
