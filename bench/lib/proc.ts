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
  /** stime + cstime: the part spent in the kernel. */
  systemTicks: number;
}

/** CPU seconds, and the part of them spent in the kernel (system calls, the network stack). */
export interface CpuTimes {
  total: number;
  system: number;
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
  return { ppid: n(1), ticks: n(11) + n(12) + n(13) + n(14), systemTicks: n(12) + n(14) };
}

/** CPU seconds (user + system, with reaped children) of one process. */
export function cpuSeconds(pid: number): number {
  return (readStat(pid)?.ticks ?? 0) / clockTicks();
}

/** The same with the kernel's part apart. */
export function cpuTimes(pid: number): CpuTimes {
  const s = readStat(pid);
  return { total: (s?.ticks ?? 0) / clockTicks(), system: (s?.systemTicks ?? 0) / clockTicks() };
}

/**
 * CPU seconds of `root` and every live descendant. Each process counts its own time plus the
 * time of children it has reaped, so a per-connection `sshd` that exited is still included
 * (through its parent) and a live one is counted once.
 */
export function treeCpuTimes(root: number): CpuTimes {
  const stats = liveStats();
  let ticks = 0;
  let systemTicks = 0;
  for (const pid of descendants(root, stats)) {
    ticks += stats.get(pid)?.ticks ?? 0;
    systemTicks += stats.get(pid)?.systemTicks ?? 0;
  }
  return { total: ticks / clockTicks(), system: systemTicks / clockTicks() };
}

/** The stat line of every live process, by pid. */
function liveStats(): Map<number, StatLine> {
  const stats = new Map<number, StatLine>();
  for (const pid of readdirSync('/proc').map(Number)) {
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const s = readStat(pid);
    if (s) stats.set(pid, s);
  }
  return stats;
}

/** `root` and its live descendants. */
function descendants(root: number, stats: Map<number, StatLine>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * Seconds `root` and its live descendants spent runnable but waiting for a CPU
 * (/proc/PID/schedstat, second field, in ns). Over a window ÷ the window: how much of it a process
 * that had work could not run because every core was taken.
 */
export function treeRunqueueWaitSeconds(root: number): number {
  let ns = 0;
  for (const pid of descendants(root, liveStats())) ns += runqueueWaitNs(pid);
  return ns / 1e9;
}

function runqueueWaitNs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1] ?? 0);
  } catch {
    return 0; // gone, or a kernel without schedstats
  }
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
