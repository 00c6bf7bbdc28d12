import { domainSpec, type DomainSpec } from '../domain-spec.js';
import { InvalidArgument } from '../errors.js';
import { allElements, findElement, readXml, type XmlElement } from '../testing/xml-reader.js';
import { escapeXml, renderDomainXml, type DomainXmlInput } from './domain-xml.js';

const INSTANCE = '6f1c2a4e-3b7d-4c9e-8a21-0d5e9b3f7c10';
const IMAGE = 'a3d2f0c1-5e6b-4f70-9182-736455aa0b1c';

const spec: DomainSpec = domainSpec({ instanceId: INSTANCE, vcpus: 1, memoryMib: 64, imageId: IMAGE });

function input(overrides: Partial<DomainXmlInput> = {}): DomainXmlInput {
  return {
    spec,
    virtType: 'qemu',
    diskPath: `/home/h1/instances/${INSTANCE}/disk.qcow2`,
    consoleLogPath: `/home/h1/instances/${INSTANCE}/console.log`,
    ...overrides,
  };
}

function only(root: XmlElement, name: string): XmlElement {
  const found = allElements(root).filter((element) => element.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** The document's shape: every element's path and attribute names, values left out. */
function shape(root: XmlElement, prefix = ''): string[] {
  const here = `${prefix}/${root.name}[${Object.keys(root.attributes).sort().join(',')}]`;
  return [here, ...root.children.flatMap((child) => shape(child, here))];
}

describe(renderDomainXml.name, () => {
  it('describes a TCG domain named and identified after its instance', () => {
    const root = readXml(renderDomainXml(input()));
    expect(root.name).toBe('domain');
    expect(root.attributes).toEqual({ type: 'qemu' });
    expect(only(root, 'name').text).toBe(`nimbus-${INSTANCE}`);
    expect(only(root, 'uuid').text).toBe(INSTANCE);
    expect(only(root, 'memory')).toMatchObject({ attributes: { unit: 'MiB' }, text: '64' });
    expect(only(root, 'vcpu').text).toBe('1');
    expect(findElement(root, 'acpi')).toBeDefined(); // without ACPI no guest can honour a graceful shutdown
  });

  it('has no NIC without ports, and a virtio NIC on a tap of its own per port, in order', () => {
    expect(allElements(readXml(renderDomainXml(input()))).some((e) => e.name === 'interface')).toBe(false);
    const nics = [
      { portId: '5e0d8f2b-9c1a-4b3e-8f70-1a2b3c4d5e6f', networkId: IMAGE, macAddress: 'fa:16:3e:00:00:01' },
      { portId: '0b0c4a4e-3b7d-4c9e-8a21-0d5e9b3f7c10', networkId: IMAGE, macAddress: 'fa:16:3e:00:00:02' },
    ];
    const root = readXml(renderDomainXml(input({ spec: { ...spec, nics } })));
    const interfaces = allElements(root).filter((element) => element.name === 'interface');
    expect(
      interfaces.map((nic) => [
        nic.attributes,
        only(nic, 'mac').attributes,
        only(nic, 'target').attributes,
        only(nic, 'model').attributes,
      ]),
    ).toEqual([
      [
        { type: 'ethernet' },
        { address: 'fa:16:3e:00:00:01' },
        { dev: 'tap5e0d8f2b-9c', managed: 'no' },
        { type: 'virtio' },
      ],
      [
        { type: 'ethernet' },
        { address: 'fa:16:3e:00:00:02' },
        { dev: 'tap0b0c4a4e-3b', managed: 'no' },
        { type: 'virtio' },
      ],
    ]);
  });

  it('boots from one qcow2 overlay on virtio by default, and on IDE when asked', () => {
    const disk = only(readXml(renderDomainXml(input())), 'disk');
    expect(disk.attributes).toEqual({ type: 'file', device: 'disk' });
    expect(only(disk, 'driver').attributes).toEqual({ name: 'qemu', type: 'qcow2' });
    expect(only(disk, 'source').attributes).toEqual({ file: `/home/h1/instances/${INSTANCE}/disk.qcow2` });
    expect(only(disk, 'target').attributes).toEqual({ dev: 'vda', bus: 'virtio' });

    const ide = readXml(renderDomainXml(input({ spec: { ...spec, diskBus: 'ide' } })));
    expect(only(only(ide, 'disk'), 'target').attributes).toEqual({ dev: 'hda', bus: 'ide' });
  });

  it('puts VNC on the loopback with an automatic port and the serial console in an appended log', () => {
    const root = readXml(renderDomainXml(input()));
    const graphics = only(root, 'graphics');
    expect(graphics.attributes).toEqual({ type: 'vnc', port: '-1', autoport: 'yes', listen: '127.0.0.1' });
    expect(only(graphics, 'listen').attributes).toEqual({ type: 'address', address: '127.0.0.1' });
    const serial = only(root, 'serial');
    expect(serial.attributes).toEqual({ type: 'file' });
    expect(findElement(serial, 'source')?.attributes).toEqual({
      path: `/home/h1/instances/${INSTANCE}/console.log`,
      append: 'on',
    });
  });

  it('keeps hostile characters in paths as data: the same shape, the exact value back', () => {
    const hostile = `/srv/a'b"c<d>&e;$(x)\n/x'/><graphics type='vnc' listen='0.0.0.0'/><disk file='/disk.qcow2`;
    const xml = renderDomainXml(input({ diskPath: hostile, consoleLogPath: `/logs/&amp;<serial>` }));
    const root = readXml(xml);
    expect(shape(root)).toEqual(shape(readXml(renderDomainXml(input()))));
    expect(only(only(root, 'disk'), 'source').attributes.file).toBe(hostile);
    expect(findElement(only(root, 'serial'), 'source')?.attributes.path).toBe('/logs/&amp;<serial>');
    expect(only(root, 'graphics').attributes.listen).toBe('127.0.0.1');
  });

  it('refuses relative or unnormalised paths and an unknown virt type', () => {
    expect(() => renderDomainXml(input({ diskPath: 'disk.qcow2' }))).toThrow(InvalidArgument);
    expect(() => renderDomainXml(input({ diskPath: '/home/h1/../etc/disk' }))).toThrow(InvalidArgument);
    expect(() => renderDomainXml(input({ consoleLogPath: '/a//b' }))).toThrow(InvalidArgument);
    expect(() => renderDomainXml(input({ virtType: 'xen' as 'qemu' }))).toThrow(InvalidArgument);
  });

  it('re-checks the spec, so a hand-built one cannot smuggle in a name of its own', () => {
    const forged = { ...spec, name: "nimbus-x'/><evil/>" };
    expect(() => renderDomainXml(input({ spec: forged }))).toThrow(InvalidArgument);
    expect(() => renderDomainXml(input({ spec: { ...spec, vcpus: 0 } }))).toThrow(InvalidArgument);
  });
});

describe(escapeXml.name, () => {
  it('escapes the five special characters for text and either attribute quote', () => {
    expect(escapeXml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&apos;y&apos;&gt;&amp;&lt;/a&gt;',
    );
    expect(escapeXml('&amp;')).toBe('&amp;amp;'); // never "already escaped"
  });

  it('keeps tab, newline, carriage return and characters beyond the BMP', () => {
    expect(escapeXml('a\tb\nc\rd 😀 é')).toBe('a\tb\nc\rd 😀 é');
  });

  it('refuses characters XML cannot carry instead of dropping them', () => {
    for (const bad of ['\0', '\x1b[31m', '\x08', '\ud800', 'a\udc00', '\uffff']) {
      expect(() => escapeXml(bad)).toThrow(InvalidArgument);
    }
  });
});
