#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""unicornd's hardware layer (issue 6) without hardware.

A umockdev testbed gives the daemon a Radeon 780M (amdgpu, PCI 1002:15bf,
512 MiB carve-out, 16 GiB GTT) and, hot-plugged later, a Phoenix NPU
(amdxdna, PCI 1022:1502); tests/hw/fake-ioctl.c, preloaded in front of
umockdev, answers the DRM/amdxdna ioctls on those nodes with recorded
replies and scripted errors and logs every request number. Checked:
discovery, memory and budget, admission (NoMemory with sizes) and LRU
eviction, hot-plug with PropertiesChanged, SetPowerMode through polkit
(denied for an unprivileged uid, allowed for an authorized one and root),
the error paths (EOPNOTSUPP, EINVAL for turbo with contexts, EACCES) that
leave the previous mode in place, and restoring the modes on exit. A second
class runs the daemon on this machine as it is: CPU listed, NPU absent.

Everything here is a fake of the kernel's documented interfaces; see
docs/hardware.md for what that does and does not prove.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unicorntest  # noqa: E402
from unicorntest import UnicornTestCase, UNICORND, NOBODY  # noqa: E402

FAKE_IOCTL = os.environ.get('UNICORN_FAKE_IOCTL',
                            os.path.join(unicorntest.BUILD, 'tests', 'hw', 'libunicorn-fake-ioctl.so'))
UMOCKDEV_PRELOAD = 'libumockdev-preload.so.0'
MiB = 1 << 20
GiB = 1 << 30
GPU_PCI = '0000:c4:00.0'
NPU_PCI = '0000:c5:00.1'
VRAM = 512 * MiB
GTT = 16 * GiB
RESERVE = 1 * GiB
KV = 256 * MiB


def reexec_under_umockdev():
    """umockdev's testbed API must run with its preload library (it checks
    parents through the fake /sys), so the test runs under umockdev-wrapper;
    the children (bus, polkit mock, clients) must not, so LD_PRELOAD is
    dropped from the environment once we are in."""
    if os.environ.get('UNICORN_HW_TEST_WRAPPED'):
        os.environ.pop('LD_PRELOAD', None)
        return
    if not shutil.which('umockdev-wrapper'):
        unicorntest.skip('umockdev-wrapper is not installed (package umockdev)')
    if not os.path.exists(FAKE_IOCTL):
        unicorntest.skip(f'{FAKE_IOCTL} is not built')
    try:
        import gi
        gi.require_version('UMockdev', '1.0')
        from gi.repository import UMockdev  # noqa: F401
    except (ImportError, ValueError) as e:
        unicorntest.skip(f'gir1.2-umockdev-1.0 / python3-gi missing: {e}')
    os.environ['UNICORN_HW_TEST_WRAPPED'] = '1'
    os.execvp('umockdev-wrapper', ['umockdev-wrapper', unicorntest.PYTHON] + sys.argv)


class PropertyWatch:
    """Collects PropertiesChanged of the manager (Gio, no main loop thread)."""

    def __init__(self, address):
        from gi.repository import Gio, GLib
        self.GLib = GLib
        self.ctx = GLib.MainContext.new()
        self.ctx.push_thread_default()
        self.conn = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)
        self.changed = []
        self.conn.signal_subscribe('org.unicorn.Engine1', 'org.freedesktop.DBus.Properties', 'PropertiesChanged',
                                   '/org/unicorn/Engine1', None, 0, self._on, None)
        self.ctx.pop_thread_default()

    def _on(self, conn, sender, path, iface, member, params, data):
        _, changed, invalidated = params.unpack()
        self.changed += list(changed.keys()) + list(invalidated)

    def wait(self, name, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            while self.ctx.iteration(False):
                pass
            if name in self.changed:
                return True
            time.sleep(0.05)
        return False

    def close(self):
        self.conn.close_sync(None)


class HardwareTest(UnicornTestCase):
    @classmethod
    def setUpClass(cls):
        import gi
        gi.require_version('UMockdev', '1.0')
        from gi.repository import UMockdev
        cls.testbed = UMockdev.Testbed.new()
        cls.root = cls.testbed.get_root_dir()
        cls.fake = os.path.join(cls.root, 'fake-ioctl')
        os.makedirs(cls.fake)
        cls.gpu = cls.testbed.add_device(
            'pci', GPU_PCI, None,
            ['vendor', '0x1002', 'device', '0x15bf', 'class', '0x030000',
             'mem_info_vram_total', str(VRAM), 'mem_info_vram_used', str(300 * MiB),
             'mem_info_gtt_total', str(GTT), 'mem_info_gtt_used', str(2 * GiB),
             'power_dpm_force_performance_level', 'auto\n'],
            ['DRIVER', 'amdgpu', 'PCI_SLOT_NAME', GPU_PCI, 'PCI_ID', '1002:15BF'])
        cls.testbed.add_device('drm', 'renderD128', cls.gpu, [],
                               ['DEVNAME', '/dev/dri/renderD128', 'MAJOR', '226', 'MINOR', '128'])
        cls.mknode('dri/renderD128')
        cls.npu = None
        super().setUpClass()

    @classmethod
    def mknode(cls, name):
        p = os.path.join(cls.root, 'dev', name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, 'w').close()

    @classmethod
    def start_daemon(cls):
        import dbus
        with open(cls.config, 'a') as f:
            f.write(f'MemoryReserve={RESERVE // MiB}M\nKVCacheReserve={KV // MiB}M\nEvictIdleModels=yes\n')
        env = dict(os.environ, LD_PRELOAD=f'{FAKE_IOCTL}:{UMOCKDEV_PRELOAD}', UMOCKDEV_DIR=cls.root,
                   UNICORN_FAKE_IOCTL_DIR=cls.fake)
        cls.daemon = subprocess.Popen([UNICORND, '--state-dir', cls.state, '--config', cls.config, '-v'],
                                      stdout=cls.daemon_log, stderr=subprocess.STDOUT, env=env)
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

    # --- helpers -----------------------------------------------------------

    def devices(self):
        return {str(d[0]): (str(d[1]), str(d[2]), {str(k): v for k, v in d[3].items()})
                for d in self.manager_prop('Devices')}

    def sysfs(self, attr):
        with open(os.path.join(self.root, self.gpu.lstrip('/'), attr)) as f:
            return f.read().strip()

    def fake_file(self, name, value=None):
        p = os.path.join(self.fake, name)
        if value is None:
            try:
                with open(p) as f:
                    return f.read().strip()
            except FileNotFoundError:
                return None
        with open(p, 'w') as f:
            f.write(value)

    def clear_fake(self, name):
        try:
            os.unlink(os.path.join(self.fake, name))
        except FileNotFoundError:
            pass

    def ensure_npu(self):
        cls = type(self)
        if cls.npu:
            return
        cls.npu = self.testbed.add_device('pci', NPU_PCI, None, ['vendor', '0x1022', 'device', '0x1502'],
                                          ['DRIVER', 'amdxdna', 'PCI_SLOT_NAME', NPU_PCI, 'PCI_ID', '1022:1502'])
        accel = self.testbed.add_device('accel', 'accel0', cls.npu, [],
                                        ['DEVNAME', '/dev/accel/accel0', 'MAJOR', '261', 'MINOR', '0'])
        self.mknode('accel/accel0')
        self.testbed.uevent(accel, 'add')
        self.wait_for(lambda: 'accel0' in self.devices(), what='accel0 in Devices')

    def power(self, mode, uid=NOBODY):
        return self.unicornctl('power', mode, uid=uid)

    # --- tests ---------------------------------------------------------------

    def test_01_gpu_discovery(self):
        devs = self.devices()
        self.assertIn('cpu', devs)
        kind, name, d = devs['renderD128']
        self.assertEqual(kind, 'gpu')
        self.assertEqual(d['driver'], 'amdgpu')
        self.assertEqual(d['pci_id'], '1002:15bf')
        self.assertEqual(d['pci_slot'], GPU_PCI)
        self.assertEqual(d['node'], '/dev/dri/renderD128')
        self.assertEqual(int(d['vram_total']), VRAM)
        self.assertEqual(int(d['gtt_total']), GTT)
        self.assertEqual(int(d['vram_used']), 300 * MiB)
        self.assertEqual(int(d['gtt_used']), 2 * GiB)
        self.assertEqual(int(d['memory_total']), VRAM + GTT)
        self.assertEqual(str(d['power_mode']), 'auto')
        self.assertFalse(bool(d['verified']))
        if 'accel0' not in devs:
            self.assertFalse(bool(devs['npu'][2]['present']))

    def test_02_budget(self):
        b = {str(k): int(v) for k, v in self.manager_prop('MemoryBudget').items()}
        self.assertEqual(b['vram_total'], VRAM)
        self.assertEqual(b['gtt_total'], GTT)
        self.assertEqual(b['reserve'], RESERVE)
        self.assertEqual(b['budget'], VRAM + GTT - RESERVE)
        self.assertEqual(b['used'], 0)
        self.assertEqual(b['free'], b['budget'])
        self.assertEqual(b['gtt_weights'], 0)

    def test_03_admission_refused_with_sizes(self):
        huge = os.path.join(self.state, 'huge.gguf')
        with open(huge, 'wb') as f:
            f.truncate(20 * GiB)  # sparse: refused before anything reads it
        try:
            rc, out, err = self.unicornctl('load', 'huge')
            self.assertNotEqual(rc, 0)
            need = (20 * GiB + KV) // MiB
            budget = (VRAM + GTT - RESERVE) // MiB
            self.assertIn(f'model huge needs {need} MiB, {budget} MiB free of {budget} MiB budget', err)
            self.assertNotIn('huge', self.manager_prop('LoadedModels'))
        finally:
            os.unlink(huge)

    def test_04_lru_eviction(self):
        fixture = os.path.join(unicorntest.SRC, 'tests', 'fixtures', 'models', 'llama-q4_0.gguf')
        if not os.path.exists(fixture):
            self.skipTest('fixture model missing')
        shutil.copy(fixture, os.path.join(self.state, 'tiny.gguf'))
        rc, out, err = self.unicornctl('load', 'tiny')
        self.assertEqual(rc, 0, err)
        b = {str(k): int(v) for k, v in self.manager_prop('MemoryBudget').items()}
        self.assertEqual(b['used'], os.path.getsize(fixture) + KV)
        # The engine's Vulkan device here is lavapipe, not the (fake) amdgpu GPU: no GTT weight
        # allocator is passed, so the backend description has no "[weights: …]" note.
        self.assertEqual(b['gtt_weights'], 0)
        log = open(self.daemon_log.name).read()
        self.assertIn('Loaded model tiny (', log)
        self.assertNotIn('[weights:', log)
        self.assertNotIn('weights may go to GTT', log)
        # Fits only if tiny goes: it is idle (no sessions), so it is evicted.
        big = os.path.join(self.state, 'big.gguf')
        with open(big, 'wb') as f:
            f.truncate(b['free'] - KV + 4096)
        try:
            rc, out, err = self.unicornctl('load', 'big')
            self.assertNotIn('NoMemory', err)
            self.assertNotIn('needs', err)  # admitted; then fails as a malformed GGUF
            self.assertNotIn('tiny', self.manager_prop('LoadedModels'))
            self.assertIn('Evicting idle model tiny', open(self.daemon_log.name).read())
            b = {str(k): int(v) for k, v in self.manager_prop('MemoryBudget').items()}
            self.assertEqual(b['used'], 0)  # big failed to load: uncharged
        finally:
            os.unlink(big)
            os.unlink(os.path.join(self.state, 'tiny.gguf'))

    def test_05_hotplug(self):
        if type(self).npu:
            self.skipTest('NPU already added')
        self.assertFalse(bool(self.devices()['npu'][2]['present']))
        watch = PropertyWatch(self.address)
        try:
            self.ensure_npu()
            self.assertTrue(watch.wait('Devices'), 'no PropertiesChanged for Devices')
        finally:
            watch.close()
        kind, name, d = self.devices()['accel0']
        self.assertEqual(kind, 'npu')
        self.assertIn('Phoenix', name)
        self.assertEqual(d['driver'], 'amdxdna')
        self.assertEqual(d['pci_id'], '1022:1502')
        self.assertEqual(d['firmware'], '1.5.2.380')
        self.assertEqual(int(d['aie_columns']), 5)
        self.assertEqual(int(d['aie_rows']), 6)
        self.assertEqual(int(d['npu_clock_mhz']), 1267)
        self.assertEqual(str(d['power_mode']), 'default')
        self.assertNotIn('npu', self.devices())  # the "absent" placeholder is gone
        log = self.fake_file('log')
        # DRM_IOCTL_AMDXDNA_GET_INFO = _IOWR('d', 0x47, 16 bytes), with the exact sizes.
        for param, size in ((8, 16), (1, 64), (3, 48), (9, 8)):
            self.assertIn(f'accel 0xc0106447 get_info param={param} size={size}', log)

    def test_06_power_denied_without_polkit(self):
        self.ensure_npu()
        self.set_allowed(['org.unicorn.Engine1.generate'])
        rc, out, err = self.power('high')
        self.assertEqual(rc, 4, err)
        self.assertIn('set-power-mode', err)
        self.assertEqual(self.sysfs('power_dpm_force_performance_level'), 'auto')
        self.assertIn(self.fake_file('npu_mode'), (None, '0'))

    def test_07_power_errors_keep_previous_mode(self):
        self.ensure_npu()
        self.set_allowed(['org.unicorn.Engine1.set-power-mode'])
        before = (self.sysfs('power_dpm_force_performance_level'), self.fake_file('npu_mode'),
                  self.manager_prop('PowerMode'))
        cases = [('95', 'low', 'NotSupported', 'does not support power modes'),     # EOPNOTSUPP
                 ('13', 'high', 'DeviceError', 'Not permitted'),                      # EACCES
                 (None, 'turbo', 'Busy', 'hardware contexts exist')]                 # EINVAL, contexts
        try:
            for errno_, mode, name, text in cases:
                if errno_:
                    self.fake_file('set_state_errno', errno_)
                else:
                    self.clear_fake('set_state_errno')
                    self.fake_file('hwctx', '1')
                rc, out, err = self.run_client(f'print(err(mgr.SetPowerMode, {mode!r}))')
                self.assertEqual(rc, 0, err)
                self.assertIn('org.unicorn.Engine1.Error.' + name, out)
                self.assertIn(text, out)
                self.assertEqual((self.sysfs('power_dpm_force_performance_level'), self.fake_file('npu_mode'),
                                  self.manager_prop('PowerMode')), before, f'{mode} changed something')
        finally:
            self.clear_fake('set_state_errno')
            self.clear_fake('hwctx')
        rc, out, err = self.run_client('print(err(mgr.SetPowerMode, "warp"))')
        self.assertIn('InvalidArgument', out)

    def test_08_power_allowed(self):
        self.ensure_npu()
        self.set_allowed(['org.unicorn.Engine1.set-power-mode'])
        watch = PropertyWatch(self.address)
        try:
            rc, out, err = self.power('high')
            self.assertEqual(rc, 0, err)
            self.assertTrue(watch.wait('PowerMode'))
        finally:
            watch.close()
        self.assertEqual(self.manager_prop('PowerMode'), 'high')
        self.assertEqual(self.sysfs('power_dpm_force_performance_level'), 'high')
        self.assertEqual(self.fake_file('npu_mode'), '3')
        self.assertIn('accel 0xc0106448 set_state param=0 size=8 mode=3', self.fake_file('log'))
        # Root needs no polkit: allowed even with nothing allowed.
        self.set_allowed([])
        rc, out, err = self.power('turbo', uid=0)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.fake_file('npu_mode'), '4')
        self.assertEqual(self.sysfs('power_dpm_force_performance_level'), 'high')

    def test_09_unicornctl_devices(self):
        self.ensure_npu()
        rc, out, err = self.unicornctl('--json', 'devices')
        self.assertEqual(rc, 0, err)
        j = json.loads(out)
        by_id = {d['id']: d for d in j['devices']}
        self.assertEqual(by_id['renderD128']['memory_total'], VRAM + GTT)
        self.assertFalse(by_id['renderD128']['verified_on_hardware'])
        self.assertFalse(by_id['accel0']['verified_on_hardware'])
        self.assertEqual(by_id['accel0']['driver'], 'amdxdna')
        rc, out, err = self.unicornctl('devices')
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r'renderD128 +gpu .*amdgpu .*no')
        self.assertIn('Power mode:', out)

    def test_10_restore_on_exit(self):
        self.ensure_npu()
        self.set_allowed(['org.unicorn.Engine1.set-power-mode'])
        rc, out, err = self.power('low')
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.sysfs('power_dpm_force_performance_level'), 'low')
        self.daemon.terminate()
        self.daemon.wait(15)
        # What the devices had when the daemon started: auto, NPU default.
        self.assertEqual(self.sysfs('power_dpm_force_performance_level'), 'auto')
        self.assertEqual(self.fake_file('npu_mode'), '0')
        type(self).start_daemon()


class NoHardwareTest(UnicornTestCase):
    """This machine as it is (CI: no AMD GPU, no NPU)."""

    def test_cpu_listed_npu_absent(self):
        devs = {str(d[0]): (str(d[1]), {str(k): v for k, v in d[3].items()}) for d in self.manager_prop('Devices')}
        self.assertEqual(devs['cpu'][0], 'cpu')
        self.assertTrue(bool(devs['cpu'][1]['present']))
        if not os.path.exists('/sys/class/accel'):
            self.assertFalse(bool(devs['npu'][1]['present']))
            self.assertIn('amdxdna', str(devs['npu'][1]['reason']))
        b = {str(k): int(v) for k, v in self.manager_prop('MemoryBudget').items()}
        self.assertGreater(b['budget'], 0)
        rc, out, err = self.unicornctl('devices')
        self.assertEqual(rc, 0, err)
        self.assertIn('absent', out)

    def test_lavapipe_listed(self):
        icds = [f for d in ('/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d')
                if os.path.isdir(d) for f in os.listdir(d) if f.startswith('lvp_icd')]
        if not icds:
            self.skipTest('no lavapipe Vulkan ICD (lvp_icd*.json) on this machine')
        devs = {str(d[0]): (str(d[1]), str(d[2]), {str(k): v for k, v in d[3].items()})
                for d in self.manager_prop('Devices')}
        vk = [(i, v) for i, v in devs.items() if v[0] == 'vulkan' and str(v[2].get('vulkan_type')) == 'cpu']
        self.assertTrue(vk, f'no Vulkan CPU device (lavapipe) in Devices: {devs}')
        i, (kind, name, det) = vk[0]
        self.assertIn('llvmpipe', name)
        self.assertEqual(i, f'vulkan{int(det["vulkan_index"])}')
        self.assertEqual(len(str(det['vulkan_uuid'])), 32)
        self.assertNotIn('vulkan_match', det)
        rc, out, err = self.unicornctl('devices')
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, rf'{i} +vulkan +llvmpipe.*\(cpu\)')
        rc, out, err = self.unicornctl('--json', 'devices')
        self.assertEqual(rc, 0, err)
        j = {d['id']: d for d in json.loads(out)['devices']}
        self.assertEqual(j[i]['vulkan_type'], 'cpu')


if __name__ == '__main__':
    unicorntest.check_prerequisites()
    reexec_under_umockdev()
    unicorntest.main()
