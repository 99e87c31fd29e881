// Reads CPU time and memory of other processes from /proc (Linux), so the middle box's cost is
// measured apart from the benchmark's own clients. A process tree is summed without double counts.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface StatLine {
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks: own time plus that of reaped children. */
  ticks: number;
}

function readStat(pid: number): StatLine | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(fields[i] ?? 0);
  return { ppid: n(1), ticks: n(11) + n(12) + n(13) + n(14) };
}

/** CPU seconds (user + system, with reaped children) of one process. */
export function cpuSeconds(pid: number): number {
  return (readStat(pid)?.ticks ?? 0) / clockTicks();
}

/**
 * CPU seconds of `root` and every live descendant. Each process counts its own time plus the
 * time of children it has reaped, so a per-connection `sshd` that exited is still included
 * (through its parent) and a live one is counted once.
 */
export function treeCpuSeconds(root: number): number {
  const stats = new Map<number, StatLine>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const s = readStat(pid);
    if (s) stats.set(pid, s);
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  let ticks = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    ticks += stats.get(pid)?.ticks ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks / clockTicks();
}

/** Minor page faults a process has taken so far (/proc/PID/stat minflt; 0 when it is gone). */
export function minorFaults(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[7] ?? 0);
  } catch {
    return 0;
  }
}

/** Resident set size in KiB (VmRSS), or 0 when the process is gone. */
export function rssKiB(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds the whole machine spent busy (every core: user, nice, system, irq, softirq, steal),
 * from /proc/stat; a difference over a window ÷ the window = cores in use. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / clockTicks();
}

/** Read and write system calls a process made so far (/proc/PID/io syscr, syscw; 0 when unreadable). */
export function ioSyscalls(pid: number): { reads: number; writes: number } {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { reads: Number(/^syscr:\s+(\d+)/m.exec(text)?.[1] ?? 0), writes: Number(/^syscw:\s+(\d+)/m.exec(text)?.[1] ?? 0) };
  } catch {
    return { reads: 0, writes: 0 };
  }
}
