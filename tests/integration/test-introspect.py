#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""dbus/org.unicorn.Engine1.xml must describe exactly what unicornd
implements (`unicornd --bus-introspect`): same interfaces, methods,
arguments (names, types, directions), signals and properties (types,
access, change signalling). Doc comments are ignored."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

SRC = os.environ.get('UNICORN_SOURCE_ROOT', os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))
BUILD = os.environ.get('UNICORN_BUILD_ROOT', os.path.join(SRC, 'build'))
UNICORND = os.environ.get('UNICORND', os.path.join(BUILD, 'daemon', 'unicornd'))


def normalize(root):
    out = {}
    for iface in root.iter('interface'):
        items = []
        for el in iface:
            if el.tag in ('method', 'signal'):
                args = tuple((a.get('name'), a.get('type'), a.get('direction', 'in' if el.tag == 'method' else None))
                             for a in el.iter('arg'))
                items.append((el.tag, el.get('name'), args))
            elif el.tag == 'property':
                ann = {a.get('name'): a.get('value') for a in el.iter('annotation')}
                items.append(('property', el.get('name'), el.get('type'), el.get('access'),
                              ann.get('org.freedesktop.DBus.Property.EmitsChangedSignal', 'true')))
        out[iface.get('name')] = sorted(items)
    return out


def main():
    if not os.access(UNICORND, os.X_OK):
        print(f'SKIP: {UNICORND} not built')
        return 77
    live = subprocess.run([UNICORND, '--bus-introspect'], check=True, capture_output=True, text=True).stdout
    a = normalize(ET.fromstring(live))
    b = normalize(ET.parse(os.path.join(SRC, 'dbus', 'org.unicorn.Engine1.xml')).getroot())
    ok = True
    for name in sorted(set(a) | set(b)):
        if name not in b:
            print(f'interface {name} is implemented but not documented')
            ok = False
        elif name not in a:
            print(f'interface {name} is documented but not implemented')
            ok = False
        elif a[name] != b[name]:
            ok = False
            for x in sorted(set(a[name]) - set(b[name])):
                print(f'{name}: implemented, not documented: {x}')
            for x in sorted(set(b[name]) - set(a[name])):
                print(f'{name}: documented, not implemented: {x}')
    print('XML matches the vtables' if ok else 'dbus/org.unicorn.Engine1.xml drifted from the code')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
