/**
 * The channels opened on one established connection: a command's exec channel (deadline, output
 * limit, the kill on timeout), the SFTP channel (one per connection) and direct-tcpip tunnels. Each
 * failure says whether the connection was lost (the session may run the work again) or the host
 * refused (it may not). The session (ssh-session.ts) chooses the connection and retries.
 * Must never build a command line itself: the caller passes one made by shellCommandLine.
 */
import type { ClientChannel, SFTPWrapper } from 'ssh2';

import { ChannelFailed, CommandTimedOut, ConnectionLost } from './errors.js';
import type { Connection } from './ssh-connection.js';

export interface ExecOptions {
  /** From the moment the command's channel is requested. */
  readonly timeoutMs: number;
  /** Written to the command's stdin, which is then closed (it is closed at once without this). */
  readonly stdin?: string | Buffer;
  /**
   * Run the command again on a new connection when the connection is lost while it runs. Only for
   * commands that are safe to repeat: the first run may or may not have taken effect.
   */
  readonly idempotent: boolean;
  /** Output beyond this is an error (the command is stopped), so a runaway command cannot fill memory. */
  readonly maxOutputBytes?: number;
}

export interface ExecResult {
  readonly commandLine: string;
  /** null when the command was killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** Runs one command on `connection`; resolves whatever its exit status, rejects when it could not finish. */
export function runCommand(
  connection: Connection,
  host: string,
  commandLine: string,
  options: ExecOptions,
): Promise<ExecResult> {
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    let channel: ClientChannel | undefined;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      connection.inFlight.delete(abort);
      outcome();
    };
    const abort = (error: Error) => {
      finish(() => reject(error));
      stopChannel(channel);
    };
    connection.inFlight.add(abort);
    const timer = setTimeout(
      () => abort(new CommandTimedOut(host, commandLine, options.timeoutMs)),
      options.timeoutMs,
    );

    const onChannel = (error: Error | undefined, stream: ClientChannel) => {
      if (error) {
        abort(
          connection.lost
            ? new ConnectionLost(host, `lost the connection to ${host} before ${commandLine} ran`)
            : new ChannelFailed(host, `${host} refused a channel: ${error.message}`),
        );
        return;
      }
      channel = stream;
      if (settled) {
        stopChannel(stream);
        return;
      }
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let bytes = 0;
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxOutput) {
          abort(new ChannelFailed(host, `${commandLine} printed more than ${maxOutput} bytes`));
        } else into.push(chunk);
      };
      let exit: { code: number | null; signal: string | null } | undefined;
      stream.on('data', collect(stdout));
      stream.stderr.on('data', collect(stderr));
      stream.on('exit', (code: number | null, signal?: string) => {
        exit = { code: code ?? null, signal: signal ?? null };
      });
      stream.once('close', () => {
        if (exit === undefined) {
          // No exit status: sshd went away (or the connection did) while the command ran.
          abort(new ConnectionLost(host, `the connection to ${host} ended while ${commandLine} ran`));
          return;
        }
        const status = exit;
        finish(() =>
          resolve({
            commandLine,
            exitCode: status.code,
            signal: status.signal,
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          }),
        );
      });
      stream.end(options.stdin);
    };

    try {
      connection.client.exec(commandLine, onChannel);
    } catch (error) {
      // ssh2 throws at once when the socket is already gone.
      abort(new ConnectionLost(host, `no connection to ${host} for ${commandLine}`, { cause: error }));
    }
  });
}

/** The connection's SFTP channel, opened on first use and again after the host closed it. */
export function sftpOf(connection: Connection, host: string): Promise<SFTPWrapper> {
  connection.sftp ??= new Promise<SFTPWrapper>((resolve, reject) => {
    connection.client.sftp((error, sftp) => {
      if (error) {
        connection.sftp = undefined;
        reject(
          connection.lost
            ? new ConnectionLost(host, `lost the connection to ${host} opening SFTP`)
            : new ChannelFailed(host, `${host} refused SFTP: ${error.message}`),
        );
        return;
      }
      sftp.once('close', () => {
        connection.sftp = undefined;
      });
      resolve(sftp);
    });
  });
  return connection.sftp;
}

/** A TCP stream to `address:port` as seen from the host (an SSH direct-tcpip channel). */
export function openTunnel(
  connection: Connection,
  host: string,
  address: string,
  port: number,
): Promise<ClientChannel> {
  return new Promise<ClientChannel>((resolve, reject) => {
    connection.client.forwardOut('127.0.0.1', 0, address, port, (error, channel) => {
      if (error) {
        reject(
          connection.lost
            ? new ConnectionLost(host, `lost the connection to ${host} opening a tunnel`)
            : new ChannelFailed(host, `${host} refused a tunnel to ${address}:${port}: ${error.message}`),
        );
      } else resolve(channel);
    });
  });
}

/** Stops a command channel: a KILL signal where sshd honours it, then the channel closed. */
function stopChannel(channel: ClientChannel | undefined): void {
  if (!channel) return;
  try {
    channel.signal('KILL');
  } catch {
    // The channel may already be closing; closing it below is what matters.
  }
  channel.close();
}
