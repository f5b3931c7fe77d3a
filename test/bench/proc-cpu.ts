/** CPU time of processes on this machine, read from /proc (Linux): the benches' CPU per message figures. */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (utime and stime, fields 14
 * and 15, in clock ticks). Ticks are taken as 100 per second: `getconf CLK_TCK` is 100 on every Linux this
 * runs on (USER_HZ is fixed at 100 for the /proc interface on common architectures). undefined where /proc
 * cannot be read (not Linux, or the process is gone).
 */
export function procCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const CLOCK_TICKS_PER_SECOND = 100;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[14 - 3]);
    const stime = Number(fields[15 - 3]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** Total of procCpuSeconds over the processes; undefined if there are none or any cannot be read. */
export function procsCpuSeconds(pids: readonly (number | undefined)[]): number | undefined {
  if (pids.length === 0) return undefined;
  let total = 0;
  for (const pid of pids) {
    const s = procCpuSeconds(pid);
    if (s === undefined) return undefined;
    total += s;
  }
  return total;
}

/**
 * CPU seconds per pid of every running process whose command is `comm` (the local PostgreSQL's server
 * processes, or redis-server), for the services' share of a phase. A backend that exits during the phase
 * takes its CPU with it; the hub's pools keep theirs open, so that is little.
 */
export function serviceCpu(comm: string): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const d of pids) {
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== comm) continue;
    } catch {
      continue;
    }
    const cpu = procCpuSeconds(Number(d));
    if (cpu !== undefined) out.set(Number(d), cpu);
  }
  return out;
}

/** CPU seconds the service's processes used between two serviceCpu samples (new processes count whole). */
export function serviceCpuSince(before: ReadonlyMap<number, number>, comm: string): number | undefined {
  const after = serviceCpu(comm);
  if (after.size === 0) return undefined;
  let total = 0;
  for (const [pid, cpu] of after) total += cpu - (before.get(pid) ?? 0);
  return total;
}

/** Resident set size of a process in bytes, from /proc/<pid>/statm (pages × 4096); undefined where unreadable. */
export function procRssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return Number.isFinite(pages) ? pages * 4096 : undefined;
  } catch {
    return undefined;
  }
}
