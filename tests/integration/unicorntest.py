# SPDX-License-Identifier: MIT
"""Harness for unicornd's integration tests.

A private system bus (dbus-daemon with the project's own policy file),
python-dbusmock's polkitd template, unicornd as root with a temporary model
store, and clients as unprivileged uids through setpriv. Exit 77 (skipped)
when the machine cannot do that, with the reason.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

SKIP = 77
SRC = os.environ.get('UNICORN_SOURCE_ROOT', os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))
BUILD = os.environ.get('UNICORN_BUILD_ROOT', os.path.join(SRC, 'build'))
UNICORND = os.environ.get('UNICORND', os.path.join(BUILD, 'daemon', 'unicornd'))
UNICORNCTL = os.environ.get('UNICORNCTL', os.path.join(BUILD, 'client', 'unicornctl'))
MODELS = os.environ.get('UNICORN_MODELS', os.path.expanduser('~/.cache/unicorn/models'))
DEFAULT_MODEL_FILE = 'SmolLM2-135M-Instruct.Q4_1.gguf'
DEFAULT_MODEL = 'smollm2-135m'
SMALL_MODEL_FILE = 'SmolLM2-135M-Instruct.Q4_1.gguf'
PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
NOBODY = 65534
OTHER_UID = 1  # 'daemon': a second real uid (dbus-daemon refuses uids without a passwd entry)


def skip(reason):
    print(f'SKIP: {reason}')
    sys.exit(SKIP)


def check_prerequisites():
    if os.geteuid() != 0:
        skip('needs root (the daemon runs as root, clients via setpriv)')
    for tool in ('dbus-daemon', 'setpriv'):
        if not shutil.which(tool):
            skip(f'{tool} is not installed')
    for f in (UNICORND, UNICORNCTL):
        if not os.access(f, os.X_OK):
            skip(f'{f} is not built')
    try:
        import dbus  # noqa: F401
        import dbusmock  # noqa: F401
    except ImportError as e:
        skip(f'python3-dbus / python3-dbusmock missing: {e}')


BUS_CONFIG = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <!-- The defaults of /usr/share/dbus-1/system.conf. -->
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <!-- The harness (root) runs the polkit mock and looks at everything. -->
  <policy user="root">
    <allow own="*"/>
    <allow send_type="method_call"/>
  </policy>
  <include>{policy}</include>
</busconfig>
'''

# What every unprivileged client script starts with.
CLIENT_PRELUDE = textwrap.dedent('''
    import dbus, json, os, sys, time
    bus = dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])
    NAME = 'org.unicorn.Engine1'
    mgr = dbus.Interface(bus.get_object(NAME, '/org/unicorn/Engine1'), 'org.unicorn.Engine1.Manager')
    def session(path):
        return dbus.Interface(bus.get_object(NAME, path), 'org.unicorn.Engine1.Session')
    def chat(sess, text, on_delta=None, **params):
        r, w = os.pipe()
        req = sess.Chat([{'role': 'user', 'content': text}], params, dbus.types.UnixFd(w))
        os.close(w)
        out, done = '', None
        with os.fdopen(r) as f:
            for line in f:
                rec = json.loads(line)
                if rec['type'] == 'delta':
                    out += rec['text']
                    if on_delta: on_delta(rec)
                else:
                    done = rec
        return out, done, str(req)
    def err(fn, *a, **k):
        try:
            fn(*a, **k)
        except dbus.exceptions.DBusException as e:
            return e.get_dbus_name() + ': ' + e.get_dbus_message()
        return None
''')


class UnicornTestCase(unittest.TestCase):
    daemon_args = []
    config_extra = ''   # more lines of unicornd.conf
    extra_env = {}      # more of the daemon's environment

    @classmethod
    def setUpClass(cls):
        import dbus
        import dbusmock
        cls.tmp = tempfile.mkdtemp(prefix='unicorn-test-')
        os.chmod(cls.tmp, 0o755)
        cls.socket = os.path.join(cls.tmp, 'system_bus_socket')
        conf = os.path.join(cls.tmp, 'bus.conf')
        with open(conf, 'w') as f:
            f.write(BUS_CONFIG.format(socket=cls.socket, policy=os.path.join(SRC, 'dbus', 'org.unicorn.Engine1.conf')))
        cls.bus_proc = subprocess.Popen(['dbus-daemon', '--config-file', conf, '--nofork', '--print-address'],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        cls.address = cls.bus_proc.stdout.readline().strip()
        os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = cls.address

        cls.polkit_log = open(os.path.join(cls.tmp, 'polkitd.log'), 'w')
        cls.polkit_proc, cls.polkit_obj = dbusmock.DBusTestCase.spawn_server_template(
            'polkitd', {}, stdout=cls.polkit_log)
        cls.allow_all()

        cls.state = os.path.join(cls.tmp, 'models')
        os.makedirs(cls.state)
        cls.config = os.path.join(cls.tmp, 'unicornd.conf')
        with open(cls.config, 'w') as f:
            f.write('# test configuration\nAutoLoad=yes\nMaxContextLength=8192\n' + cls.config_extra)
        cls.have_model = os.path.exists(os.path.join(MODELS, DEFAULT_MODEL_FILE))
        if cls.have_model:
            dst = os.path.join(cls.state, DEFAULT_MODEL + '.gguf')
            try:
                os.link(os.path.join(MODELS, DEFAULT_MODEL_FILE), dst)
            except OSError:
                shutil.copy(os.path.join(MODELS, DEFAULT_MODEL_FILE), dst)
        cls.daemon_log = open(os.path.join(cls.tmp, 'unicornd.log'), 'w')
        cls.start_daemon()
        cls.bus = dbus.bus.BusConnection(cls.address)

    @classmethod
    def start_daemon(cls):
        import dbus
        cls.daemon = subprocess.Popen([UNICORND, '--state-dir', cls.state, '--config', cls.config] + cls.daemon_args,
                                      stdout=cls.daemon_log, stderr=subprocess.STDOUT, env=cls.daemon_env())
        bus = dbus.bus.BusConnection(cls.address)
        for _ in range(100):
            if bus.name_has_owner('org.unicorn.Engine1'):
                break
            if cls.daemon.poll() is not None:
                raise RuntimeError('unicornd exited: ' + open(cls.daemon_log.name).read())
            time.sleep(0.1)
        else:
            raise RuntimeError('unicornd did not appear on the bus')
        bus.close()

    @classmethod
    def daemon_env(cls, env=None):
        """The daemon's environment. In a ThreadSanitizer build (-Db_sanitize=thread)
        its reports go to files in the test's directory, where tearDown finds them
        and fails the test that caused them; other builds ignore TSAN_OPTIONS."""
        env = dict(os.environ if env is None else env)
        env.update(cls.extra_env)
        opts = env.get('TSAN_OPTIONS', '')
        env['TSAN_OPTIONS'] = f'{opts} log_path={cls.tmp}/tsan'.strip()
        return env

    @classmethod
    def new_sanitizer_reports(cls):
        """What the daemons wrote to tmp/tsan.PID since the last call. A running
        daemon keeps its report file open, so the files are read on from where
        the last call stopped rather than removed."""
        seen = cls.__dict__.get('_reports_seen')
        if seen is None:
            seen = cls._reports_seen = {}
        out = ''
        for path in sorted(glob.glob(os.path.join(cls.tmp, 'tsan.*'))):
            with open(path, errors='replace') as f:
                f.seek(seen.get(path, 0))
                text = f.read()
                seen[path] = f.tell()
            # At exit TSan adds a count of what it reported before.
            text = re.sub(r'^ThreadSanitizer: reported \d+ warnings\n', '', text, flags=re.M)
            if text:
                out += f'--- {os.path.basename(path)}\n{text}'
        return out

    @classmethod
    def tearDownClass(cls):
        for p in (getattr(cls, 'daemon', None), getattr(cls, 'polkit_proc', None), getattr(cls, 'bus_proc', None)):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        # Races seen while the daemon shut down belong to no single test.
        reports = cls.new_sanitizer_reports() if hasattr(cls, 'tmp') else ''
        if os.environ.get('UNICORN_KEEP_TMP'):
            print('kept', cls.tmp)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)
        if reports:
            raise AssertionError('ThreadSanitizer reports from unicornd at shutdown:\n' + reports)

    @classmethod
    def allow_all(cls):
        cls.polkit_obj.SetAllowed(['org.unicorn.Engine1.generate', 'org.unicorn.Engine1.load-model',
                                   'org.unicorn.Engine1.manage-models'])

    @classmethod
    def set_allowed(cls, actions):
        import dbus
        cls.polkit_obj.SetAllowed(dbus.Array(actions, signature='s'))

    def setUp(self):
        self.allow_all()

    def tearDown(self):
        reports = self.new_sanitizer_reports()
        if reports:
            self.fail('ThreadSanitizer reports from unicornd during this test:\n' + reports)
        self.assertIsNone(self.daemon.poll(), 'unicornd died; log:\n' + open(self.daemon_log.name).read()[-3000:])

    # --- helpers -----------------------------------------------------------

    def manager_prop(self, name):
        import dbus
        obj = self.bus.get_object('org.unicorn.Engine1', '/org/unicorn/Engine1')
        return obj.Get('org.unicorn.Engine1.Manager', name, dbus_interface=dbus.PROPERTIES_IFACE)

    def client_cmd(self, argv, uid=NOBODY):
        return ['setpriv', f'--reuid={uid}', f'--regid={uid}', '--clear-groups', '--'] + argv

    def run_client(self, code, uid=NOBODY, timeout=300, input=None):
        """Runs python code as uid; returns (rc, stdout, stderr)."""
        p = subprocess.run(self.client_cmd([PYTHON, '-c', CLIENT_PRELUDE + textwrap.dedent(code)], uid),
                           capture_output=True, text=True, timeout=timeout, input=input, cwd='/')
        return p.returncode, p.stdout, p.stderr

    def spawn_client(self, code, uid=NOBODY):
        return subprocess.Popen(self.client_cmd([PYTHON, '-u', '-c', CLIENT_PRELUDE + textwrap.dedent(code)], uid),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd='/')

    def run_json(self, code, uid=NOBODY, timeout=300):
        rc, out, err = self.run_client(code, uid, timeout)
        self.assertEqual(rc, 0, f'client failed: {err}\n{out}')
        return json.loads(out.strip().splitlines()[-1])

    def unicornctl(self, *args, uid=NOBODY, timeout=300, input=None):
        p = subprocess.run(self.client_cmd([UNICORNCTL] + list(args), uid), capture_output=True, text=True,
                           timeout=timeout, input=input, cwd='/')
        return p.returncode, p.stdout, p.stderr

    def store_files(self):
        return sorted(os.listdir(self.state))

    def wait_for(self, fn, timeout=30, what='condition'):
        end = time.time() + timeout
        while time.time() < end:
            v = fn()
            if v:
                return v
            time.sleep(0.1)
        self.fail(f'timed out waiting for {what}')

    def require_model(self):
        if not self.have_model:
            self.skipTest(f'{DEFAULT_MODEL_FILE} not in {MODELS} (tools/fetch-models)')


def main():
    import warnings
    warnings.simplefilter('ignore', ResourceWarning)
    check_prerequisites()
    # unittest exits 0/1; a run where everything was skipped still says so.
    unittest.main(verbosity=2)
