// A CLI whose output goes to a pipe that closed early (`tether audit | head -3`) stops quietly
// with exit 0, like the classic Unix tools, instead of dying with an EPIPE stack trace.
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
