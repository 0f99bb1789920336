#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Chat with a local model through unicornd, with Gio/GLib (python3-gi).

    chat.py MODEL "What is the capital of France?"

Prints the answer as it is generated. Run by tests/integration.
"""
import json
import os
import sys

from gi.repository import Gio, GLib

model, prompt = sys.argv[1], sys.argv[2]

# The system bus; DBUS_SYSTEM_BUS_ADDRESS is honoured.
bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
manager = Gio.DBusProxy.new_sync(bus, Gio.DBusProxyFlags.NONE, None, 'org.unicorn.Engine1',
                                 '/org/unicorn/Engine1', 'org.unicorn.Engine1.Manager', None)

# A private session: a KV cache and a conversation that only we can see.
(session_path,) = manager.call_sync('OpenSession', GLib.Variant('(sa{sv})', (model, {})),
                                    Gio.DBusCallFlags.NONE, -1, None).unpack()
session = Gio.DBusProxy.new_sync(bus, Gio.DBusProxyFlags.NONE, None, 'org.unicorn.Engine1',
                                 session_path, 'org.unicorn.Engine1.Session', None)

# The answer streams into a pipe we pass along: one JSON object per line.
read_end, write_end = os.pipe()
fds = Gio.UnixFDList.new()
handle = fds.append(write_end)
os.close(write_end)
messages = [{'role': GLib.Variant('s', 'user'), 'content': GLib.Variant('s', prompt)}]
params = {'temperature': GLib.Variant('d', 0.0), 'max_tokens': GLib.Variant('i', 64)}
session.call_with_unix_fd_list_sync('Chat', GLib.Variant('(aa{sv}a{sv}h)', (messages, params, handle)),
                                    Gio.DBusCallFlags.NONE, -1, fds, None)
del fds  # our copy of the write end must go, or the pipe never ends

with os.fdopen(read_end, encoding='utf-8') as stream:
    for line in stream:
        record = json.loads(line)
        if record['type'] == 'delta':
            print(record['text'], end='', flush=True)
        elif record['type'] == 'done':
            print()
            print(f"[{record['generated_tokens']} tokens, {record['tokens_per_second']:.1f} tokens/s]",
                  file=sys.stderr)
        else:
            sys.exit(f"error: {record['message']}")
