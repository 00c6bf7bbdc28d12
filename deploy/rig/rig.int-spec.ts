/**
 * The hypervisor rig, for real: two hosts on a free loopback port, reached only through the real
 * `ssh` client with the pinned host key, each booting the project's boot image under TCG, with VNC
 * through an SSH tunnel and the guest's banner in its serial log; then nothing left running.
 * Needs root and the Debian packages listed in deploy/rig/README.md.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { eventually } from '../../test/support/eventually.js';
import { listProcesses } from './processes.js';
import {
  BOOT_BANNER,
  createRig,
  destroyRig,
  readInventory,
  rigPaths,
  type RigHost,
  type RigInventory,
  type RigPaths,
} from './rig.js';

interface Output {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a local command; never rejects, so a test can assert on a failure's exit code and stderr. */
function exec(file: string, args: readonly string[], input?: Buffer | string): Promise<Output> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout: 30_000, maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

/** POSIX single quotes: ssh hands the remote command to the host user's shell as one string. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

let stateDir: string;
let paths: RigPaths;
let rig: RigInventory;
let pinnedKnownHosts: string;

/** Options ssh and scp share: the rig's key and nothing but the given pin. */
function clientOptions(knownHostsFile: string): string[] {
  // prettier-ignore
  return [
    '-F', '/dev/null', // root's own ~/.ssh/config must not change what is tested
    '-i', rig.privateKeyPath,
    '-o', `UserKnownHostsFile=${knownHostsFile}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'LogLevel=ERROR',
  ];
}

function sshArgs(host: RigHost, knownHostsFile: string, extra: readonly string[] = []): string[] {
  return [
    ...clientOptions(knownHostsFile),
    '-p',
    String(rig.sshPort),
    ...extra,
    `${host.user}@${rig.sshHost}`,
  ];
}

/** Copies a file to a host with scp, which speaks SFTP (OpenSSH 9): the compute agent's way in. */
async function copyToHost(host: RigHost, localFile: string, remoteFile: string): Promise<void> {
  const args = [...clientOptions(pinnedKnownHosts), '-P', String(rig.sshPort), '-q'];
  const result = await exec('scp', [...args, localFile, `${host.user}@${rig.sshHost}:${remoteFile}`]);
  if (result.code !== 0)
    throw new Error(`scp to ${host.name}:${remoteFile} exited ${result.code}: ${result.stderr}`);
}

/** Runs a command on a host over SSH with the pinned key; fails the test on a non-zero exit. */
async function onHost(host: RigHost, argv: readonly string[], input?: Buffer | string): Promise<string> {
  const result = await exec(
    'ssh',
    [...sshArgs(host, pinnedKnownHosts), argv.map(shellQuote).join(' ')],
    input,
  );
  if (result.code !== 0)
    throw new Error(`on ${host.name}: ${argv.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

function virsh(host: RigHost, ...args: string[]): Promise<string> {
  return onHost(host, ['virsh', '-c', host.libvirtUri, ...args]);
}

function instanceDir(host: RigHost): string {
  return path.join(host.instancesDir, 'it-guest');
}

/** A TCG guest as the compute agent will define one: 64 MiB, 1 vCPU, VNC on loopback, serial to a file. */
function domainXml(host: RigHost): string {
  const dir = instanceDir(host);
  return `<domain type='qemu'>
  <name>it-guest</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${dir}/disk.qcow2'/>
      <target dev='hda' bus='ide'/>
    </disk>
    <serial type='file'>
      <source path='${dir}/console.log'/>
      <target port='0'/>
    </serial>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>
    <video><model type='vga'/></video>
  </devices>
</domain>
`;
}

/** Copies the boot image to the host's cache, makes an overlay on it, defines and starts the guest. */
async function bootGuest(host: RigHost): Promise<void> {
  const base = path.join(host.imageCacheDir, 'nimbus-boot.qcow2');
  const dir = instanceDir(host);
  await copyToHost(host, rig.bootImagePath, base);
  await onHost(host, ['mkdir', '-p', dir]);
  await onHost(host, [
    'qemu-img',
    'create',
    '-q',
    '-f',
    'qcow2',
    '-F',
    'qcow2',
    '-b',
    base,
    `${dir}/disk.qcow2`,
  ]);
  await onHost(host, ['dd', `of=${dir}/domain.xml`, 'status=none'], domainXml(host));
  await virsh(host, 'define', `${dir}/domain.xml`);
  await virsh(host, 'start', 'it-guest');
}

/** Opens a direct-tcpip channel through the rig's sshd (what the console proxy will do) and reads the banner. */
function readVncBanner(host: RigHost, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const ssh = spawn('ssh', sshArgs(host, pinnedKnownHosts, ['-W', `127.0.0.1:${port}`]), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let received = Buffer.alloc(0);
    let stderr = '';
    const timer = setTimeout(() => ssh.kill(), 10_000);
    ssh.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    ssh.stdout.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 12) ssh.kill(); // "RFB 003.008\n" is 12 bytes
    });
    ssh.once('error', reject);
    ssh.once('close', () => {
      clearTimeout(timer);
      if (received.length >= 12) resolve(received.subarray(0, 12).toString('latin1'));
      else
        reject(new Error(`no RFB banner through ssh -W (got '${received.toString('latin1')}'): ${stderr}`));
    });
  });
}

/**
 * `ps -u` lines of the user's processes, zombies left out: a zombie has exited and only waits for
 * init's wait(), which some container inits (this machine's among them) do lazily, seconds later.
 */
async function processesOf(user: string): Promise<string[]> {
  const result = await exec('ps', ['-u', user, '-o', 'pid=,stat=,comm=']); // exits 1 when it lists nothing
  return result.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line.split(/\s+/)[1]?.startsWith('Z') !== true);
}

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'nimbus-rig-it-'));
  paths = rigPaths(await realpath(stateDir));
  rig = await createRig({ stateDir, hosts: 2 });
  pinnedKnownHosts = path.join(stateDir, 'pinned_known_hosts');
  await writeFile(pinnedKnownHosts, `${rig.knownHostsLine}\n`);
}, 60_000);

afterAll(async () => {
  // Runs even when a test failed half way; destroyRig is safe to repeat.
  if (stateDir) {
    await destroyRig(stateDir, { removeUsers: true });
    await rm(stateDir, { recursive: true, force: true });
  }
}, 60_000);

describe('the hypervisor rig', () => {
  it('writes the inventory it returns, with two distinct hosts on a free port', async () => {
    expect(await readInventory(stateDir)).toEqual(rig);
    expect(rig.sshPort).toBeGreaterThan(0);
    expect(rig.hosts).toHaveLength(2);
    expect(new Set(rig.hosts.map((host) => host.user)).size).toBe(2);
    expect(rig.knownHostsLine).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${rig.sshPort} ssh-ed25519 \\S+$`));
    // The compute agent fills the image caches; the rig leaves them empty.
    for (const host of rig.hosts) expect((await exec('ls', ['-A', host.imageCacheDir])).stdout).toBe('');
  });

  it('reports the host key fingerprint ssh-keygen computes and keeps the private key at 0600', async () => {
    const listed = await exec('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${paths.hostKey}.pub`]);
    expect(listed.stdout.split(' ')[1]).toBe(rig.hostKeyFingerprint);
    const mode = (await exec('stat', ['-c', '%a', rig.privateKeyPath])).stdout.trim();
    expect(mode).toBe('600');
  });

  it('lets the client in with the pinned host key and refuses a host key it did not pin', async () => {
    for (const host of rig.hosts) {
      expect((await onHost(host, ['id', '-un'])).trim()).toBe(host.user);
    }

    // Any other ed25519 key stands in for an impostor host; the client's own public key is one.
    const wrongKnownHosts = path.join(stateDir, 'wrong_known_hosts');
    const impostor = (await readFile(`${rig.privateKeyPath}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(wrongKnownHosts, `[127.0.0.1]:${rig.sshPort} ${impostor}\n`);
    const refused = await exec('ssh', [...sshArgs(rig.hosts[0]!, wrongKnownHosts), 'true']);
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/Host key verification failed/);
  });

  it('is idempotent: a second createRig reuses the keys, the users and the running sshd', async () => {
    const pid = (await readFile(paths.sshdPid, 'utf8')).trim();
    const again = await createRig({ stateDir, hosts: 2 });
    expect(again).toEqual(rig);
    expect((await readFile(paths.sshdPid, 'utf8')).trim()).toBe(pid);
  }, 30_000);

  it('boots the project image under TCG on every host and shows it running', async () => {
    await Promise.all(rig.hosts.map(bootGuest));
    for (const host of rig.hosts) {
      expect((await virsh(host, 'list', '--name')).split('\n')).toContain('it-guest');
      expect((await virsh(host, 'domstate', 'it-guest')).trim()).toBe('running');
    }
  }, 30_000);

  it("serves each guest's VNC console through an SSH tunnel with the RFB 3.8 banner", async () => {
    for (const host of rig.hosts) {
      const display = (await virsh(host, 'domdisplay', 'it-guest')).trim(); // vnc://127.0.0.1:<display>
      const match = /^vnc:\/\/127\.0\.0\.1:(\d+)$/.exec(display);
      expect(match).not.toBeNull();
      expect(await readVncBanner(host, 5900 + Number(match![1]))).toBe('RFB 003.008\n');
    }
  }, 30_000);

  it("finds the guest's banner in the serial log on each host", async () => {
    for (const host of rig.hosts) {
      const log = `${instanceDir(host)}/console.log`;
      const seen = await eventually(
        `'${BOOT_BANNER}' in ${host.name}:${log}`,
        async () => {
          const text = await onHost(host, ['cat', log]);
          return text.includes(BOOT_BANNER) ? text : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(seen).toContain(`${BOOT_BANNER}\r\n`);
    }
  }, 30_000);

  it('leaves no domain, guest, libvirt daemon or sshd running after destroyRig, and can repeat it', async () => {
    const sshdPid = Number((await readFile(paths.sshdPid, 'utf8')).trim());
    const users = rig.hosts.map((host) => host.user);

    await destroyRig(stateDir);

    for (const user of users) expect(await processesOf(user)).toEqual([]);
    await expect(readFile(paths.sshdPid, 'utf8')).rejects.toThrow(/ENOENT/);
    expect((await listProcesses()).some((p) => p.pid === sshdPid && p.state !== 'Z')).toBe(false);
    const sshds = await exec('ps', ['-eo', 'args=']);
    expect(sshds.stdout).not.toContain(paths.sshdConfig);
    for (const host of rig.hosts) {
      expect((await exec('ls', ['-A', host.instancesDir])).stdout).toBe('');
    }

    // The users are kept: their libvirt must know no domain any more. Asking autostarts a session
    // daemon, which the second destroyRig must stop again, this time removing the users too.
    const uids: number[] = [];
    for (const host of rig.hosts) {
      uids.push(Number((await exec('id', ['-u', host.user])).stdout.trim()));
      const listed = await exec('runuser', [
        '-u',
        host.user,
        '--',
        'env',
        '-u',
        'XDG_RUNTIME_DIR',
        `HOME=${host.home}`,
        'virsh',
        '-q',
        '-c',
        host.libvirtUri,
        'list',
        '--all',
        '--name',
      ]);
      expect(listed).toMatchObject({ code: 0, stdout: '' });
    }

    await destroyRig(stateDir, { removeUsers: true });

    const left = (await listProcesses()).filter((p) => uids.includes(p.uid) && p.state !== 'Z');
    expect(left).toEqual([]);
    for (const user of users) expect((await exec('getent', ['passwd', user])).code).toBe(2);
  }, 45_000);
});
