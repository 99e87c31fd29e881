// Refuses a forwarded-tcpip channel with a reason the engineer can read ("connection refused on
// the appliance's 127.0.0.1:80"). ssh2's client `reject()` always sends an empty description, so
// for the duration of that one call the connection's protocol method is shadowed with one that
// adds the text, then restored (the relay does the same towards engineers). Pinned ssh2 1.17.0;
// without the internals the refusal still happens, only without the words.
import type { Client as SshClient } from 'ssh2';

type ChannelOpenFail = (recipient: number, reason: number, description?: string) => unknown;
interface WithProtocol {
  _protocol?: { channelOpenFail?: ChannelOpenFail };
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
};

/** `connection refused on the appliance's 127.0.0.1:80` */
export function refusalText(err: NodeJS.ErrnoException, target: { host: string; port: number }): string {
  const cause = (err.code && CAUSES[err.code]) ?? err.message;
  return `${cause} on the appliance's ${target.host}:${target.port}`;
}

export function rejectWithText(client: SshClient, reject: () => void, text: string): void {
  const proto = (client as unknown as WithProtocol)._protocol;
  const original = proto?.channelOpenFail;
  if (!proto || typeof original !== 'function') return reject();
  const hadOwn = Object.prototype.hasOwnProperty.call(proto, 'channelOpenFail');
  proto.channelOpenFail = (recipient: number, reason: number) => original.call(proto, recipient, reason, text);
  try {
    reject();
  } finally {
    if (hadOwn) proto.channelOpenFail = original;
    else delete proto.channelOpenFail;
  }
}
