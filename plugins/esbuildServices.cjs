'use strict';
const fs = require('node:fs');

/**
 * esbuild's service process (tsx's, which compiles config/stages.ts, and serverless-esbuild's) pings
 * this process every second. When this process exits with a ping unanswered, the service reads end of
 * input with a request outstanding and dies printing "fatal error: all goroutines are asleep -
 * deadlock!" and a goroutine dump after the command's own message (a configuration error, most often;
 * https://github.com/evanw/esbuild/issues/3287). Killed before this process exits, it prints nothing;
 * no build can still be running once the process exits.
 */
function stopEsbuildServicesOnExit() {
  if (stopEsbuildServicesOnExit.registered) return;
  stopEsbuildServicesOnExit.registered = true;
  process.once('exit', () => {
    for (const pid of esbuildServicePids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/** The esbuild service processes this process started (`esbuild --service=<version> --ping`). */
function esbuildServicePids() {
  const isService = (args) => /esbuild/.test(args) && args.includes('--service=');
  if (fs.existsSync('/proc/self/stat')) {
    return fs.readdirSync('/proc').flatMap((entry) => {
      if (!/^\d+$/.test(entry)) return [];
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== process.pid) return [];
        const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return isService(args) ? [Number(entry)] : [];
      } catch {
        return []; // exited meanwhile, or not ours to read
      }
    });
  }
  // No /proc (macOS): ask ps.
  const { spawnSync } = require('node:child_process');
  const listed = spawnSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout ?? '';
  return listed.split('\n').flatMap((line) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    return m && Number(m[2]) === process.pid && isService(m[3]) ? [Number(m[1])] : [];
  });
}

module.exports = { stopEsbuildServicesOnExit };
