#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""unicornd over a real dbus-daemon: issue 3's "How it is checked" list.

Tests that generate text need the real default model (tools/fetch-models)
and the engine; they are skipped with a reason when the model is missing.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unicorntest import (DEFAULT_MODEL, MODELS, OTHER_UID, SMALL_MODEL_FILE, SRC, BUILD, PYTHON,  # noqa: E402
                         UnicornTestCase, main)

GREEDY = "temperature=0.0, max_tokens=dbus.Int32(24)"


class TestBasics(UnicornTestCase):
    def test_status_json(self):
        rc, out, err = self.unicornctl('status', '--json')
        self.assertEqual(rc, 0, err)
        st = json.loads(out)
        self.assertEqual(st['version'], '0.1.0')
        self.assertIn('active_requests', st)
        self.assertTrue(st['auto_load'])
        self.assertEqual(st['parallel_sessions'], 1)

    def test_list_json(self):
        rc, out, err = self.unicornctl('list', '--json')
        self.assertEqual(rc, 0, err)
        models = json.loads(out)
        if self.have_model:
            self.assertIn(DEFAULT_MODEL, [m['name'] for m in models])
            self.assertTrue(all(m['size'] > 0 for m in models))

    def test_usage_exit_codes(self):
        self.assertEqual(self.unicornctl('frobnicate')[0], 2)
        self.assertEqual(self.unicornctl('load')[0], 2)
        rc, out, _ = self.unicornctl('--help')
        self.assertEqual(rc, 0)
        self.assertIn('Exit status', out)

    def test_unknown_model(self):
        rc, out, err = self.unicornctl('run', 'no-such-model', 'hello')
        self.assertEqual(rc, 3, err)
        self.assertIn('No model named', err)
        e = self.run_json("print(json.dumps(err(mgr.OpenSession, 'no-such-model', {})))")
        self.assertTrue(e.startswith('org.unicorn.Engine1.Error.NoSuchModel'), e)

    def test_bad_arguments(self):
        # Wrong types, bad names, unknown options: every one an error, nothing changes.
        before = self.store_files()
        code = '''
            res = []
            res.append(err(mgr.OpenSession, '../etc/passwd', {}))
            res.append(err(mgr.OpenSession, 'x', {'context_length': 'big'}))
            res.append(err(mgr.OpenSession, 'x', {'context_length': dbus.UInt32(1 << 30)}))
            res.append(err(mgr.OpenSession, 'x', {'bogus': 1}))
            res.append(err(mgr.RemoveModel, ''))
            res.append(err(mgr.LoadModel, 'a/b'))
            # wrong signature altogether, through the raw connection
            for method, sig, args in [('OpenSession', 'i', [1]), ('ImportModel', 's', ['x']),
                                      ('ListModels', 's', ['x']), ('NoSuchMethod', '', [])]:
                res.append(err(bus.call_blocking, NAME, '/org/unicorn/Engine1', 'org.unicorn.Engine1.Manager',
                               method, sig, args))
            print(json.dumps(res))
        '''
        res = self.run_json(code)
        for e in res:
            self.assertIsNotNone(e)
        self.assertTrue(res[0].startswith('org.unicorn.Engine1.Error.InvalidArgument'), res[0])
        self.assertTrue(res[1].startswith('org.unicorn.Engine1.Error.InvalidArgument'), res[1])
        self.assertTrue(res[2].startswith('org.unicorn.Engine1.Error.LimitExceeded'), res[2])
        self.assertEqual(self.store_files(), before)

    def test_non_regular_import_fd(self):
        before = self.store_files()
        e = self.run_json('''
            r, w = os.pipe()
            print(json.dumps(err(mgr.ImportModel, dbus.types.UnixFd(r), 'piped', {})))
        ''')
        self.assertTrue(e.startswith('org.unicorn.Engine1.Error.InvalidArgument'), e)
        self.assertIn('regular file', e)
        self.assertEqual(self.store_files(), before)

    def test_malformed_gguf_import(self):
        before = self.store_files()
        bad = os.path.join(self.tmp, 'bad.gguf')
        with open(bad, 'wb') as f:
            f.write(b'GGUF\x03\x00\x00\x00' + bytes(random.Random(1).getrandbits(8) for _ in range(4096)))
        os.chmod(bad, 0o644)
        rc, out, err = self.unicornctl('import', bad, 'bad-model')
        self.assertEqual(rc, 1, out + err)
        self.assertIn('import failed', err)
        rc, out, err = self.unicornctl('import', '/etc/hostname', 'not-a-model')
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(self.store_files(), before)
        self.assertNotIn('bad-model', [m['name'] for m in json.loads(self.unicornctl('list', '--json')[1])])

    def test_polkit_deny_manage_models(self):
        self.set_allowed(['org.unicorn.Engine1.generate'])
        before = self.store_files()
        rc, out, err = self.unicornctl('import', '/etc/hostname', 'denied')
        self.assertEqual(rc, 4, err)
        self.assertIn('org.unicorn.Engine1.manage-models', err)
        rc, out, err = self.unicornctl('rm', DEFAULT_MODEL)
        self.assertEqual(rc, 4, err)
        self.assertEqual(self.store_files(), before)

    def test_polkit_deny_generate(self):
        self.set_allowed([])
        rc, out, err = self.unicornctl('run', DEFAULT_MODEL, 'hello')
        self.assertEqual(rc, 4, err)
        self.assertIn('Not authorized', err)
        self.assertIn('org.unicorn.Engine1.generate', err)
        self.assertEqual(out, '')

    def test_random_malformed_calls(self):
        before = self.store_files()
        code = '''
            import random
            rnd = random.Random(42)
            methods = ['ListModels', 'ImportModel', 'RemoveModel', 'LoadModel', 'UnloadModel', 'OpenSession',
                       'ListSessions', 'ListLoadedModels', 'SetPowerMode', 'Bogus']
            def rstr():
                return ''.join(chr(rnd.choice([rnd.randint(32, 126), rnd.randint(0x80, 0x2fff)]))
                               for _ in range(rnd.randint(0, 300)))
            gens = {'s': rstr, 'i': lambda: dbus.Int32(rnd.randint(-2**31, 2**31 - 1)),
                    'u': lambda: dbus.UInt32(rnd.randint(0, 2**32 - 1)), 'b': lambda: rnd.random() < .5,
                    'd': lambda: rnd.choice([float('nan'), float('inf'), -1e308, rnd.random()]),
                    'as': lambda: [rstr() for _ in range(rnd.randint(0, 5))],
                    'a{sv}': lambda: dbus.Dictionary({rstr(): dbus.String(rstr(), variant_level=1)
                                                      for _ in range(rnd.randint(0, 3))}, signature='sv'),
                    'h': lambda: dbus.types.UnixFd(0)}
            paths = ['/org/unicorn/Engine1', '/org/unicorn/Engine1/session/_1', '/org/unicorn/Engine1/request/_1',
                     '/org/unicorn/Engine1/job/_1', '/org/unicorn/Engine1/session/_99999999999999999999', '/']
            ifaces = ['org.unicorn.Engine1.Manager', 'org.unicorn.Engine1.Session', 'org.unicorn.Engine1.Request']
            answered = 0
            for i in range(1000):
                n = rnd.randint(0, 4)
                types = [rnd.choice(list(gens)) for _ in range(n)]
                args = [gens[t]() for t in types]
                try:
                    bus.call_blocking(NAME, rnd.choice(paths), rnd.choice(ifaces), rnd.choice(methods),
                                      ''.join(types), args, timeout=10)
                except dbus.exceptions.DBusException as e:
                    answered += 1
                except Exception:
                    answered += 1  # rejected on our side (e.g. a string dbus-python refuses)
                else:
                    answered += 1
            print(json.dumps(answered))
        '''
        self.assertEqual(self.run_json(code, timeout=600), 1000)
        rc, out, err = self.unicornctl('status', '--json')
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.store_files(), before)

    def test_oversized_prompt(self):
        self.require_model()
        e = self.run_json('''
            s = session(mgr.OpenSession(NAME and 'smollm2-135m', {}))
            r, w = os.pipe()
            big = 'a' * (1024 * 1024 + 1)
            e1 = err(s.Chat, [{'role': 'user', 'content': big}], {}, dbus.types.UnixFd(w))
            e2 = err(s.Complete, big, {}, dbus.types.UnixFd(w))
            e3 = err(s.Chat, [{'role': 'wizard', 'content': 'hi'}], {}, dbus.types.UnixFd(w))
            e4 = err(s.Chat, [{'role': 'user', 'content': 'hi'}], {'temperature': 'hot'}, dbus.types.UnixFd(w))
            e5 = err(s.Chat, [{'role': 'user', 'content': 'hi'}], {}, dbus.types.UnixFd(r))
            e6 = err(s.Chat, [], {}, dbus.types.UnixFd(w))
            e7 = err(s.Chat, [{'role': 'user', 'content': 'hi'}], {'stop': ['x'] * 17}, dbus.types.UnixFd(w))
            print(json.dumps([e1, e2, e3, e4, e5, e6, e7]))
        ''')
        self.assertTrue(e[0].startswith('org.unicorn.Engine1.Error.LimitExceeded'), e[0])
        self.assertTrue(e[1].startswith('org.unicorn.Engine1.Error.LimitExceeded'), e[1])
        for x in e[2:]:
            self.assertTrue(x.startswith('org.unicorn.Engine1.Error.InvalidArgument'), x)
        self.assertEqual(self.manager_prop('ActiveRequests'), 0)

    def test_session_cap(self):
        self.require_model()
        e = self.run_json('''
            paths = [mgr.OpenSession('smollm2-135m', {}) for _ in range(16)]
            print(json.dumps(err(mgr.OpenSession, 'smollm2-135m', {})))
        ''')
        self.assertTrue(e.startswith('org.unicorn.Engine1.Error.LimitExceeded'), e)
        # Those sessions died with their owner.
        self.wait_for(lambda: self.manager_prop('Sessions') == 0, what='sessions to close')

    def test_other_uid_cannot_see_session(self):
        self.require_model()
        owner = self.spawn_client('''
            s = mgr.OpenSession('smollm2-135m', {})
            sess = session(s)
            text, done, req = chat(sess, 'Say hello.', temperature=0.0, max_tokens=dbus.Int32(4))
            print(json.dumps([str(s), req]))
            sys.stdin.readline()
        ''')
        try:
            sess_path, req_path = json.loads(owner.stdout.readline())
            res = self.run_json(f'''
                res = []
                for path, iface in [({sess_path!r}, 'org.unicorn.Engine1.Session'),
                                    ({req_path!r}, 'org.unicorn.Engine1.Request')]:
                    o = bus.get_object(NAME, path)
                    res.append(err(o.GetAll, iface, dbus_interface=dbus.PROPERTIES_IFACE))
                    res.append(err(o.Get, iface, 'State' if 'request' in path else 'Model',
                                   dbus_interface=dbus.PROPERTIES_IFACE))
                    res.append(err(o.Introspect, dbus_interface='org.freedesktop.DBus.Introspectable')
                               and 'error')
                res.append(err(bus.get_object(NAME, {req_path!r}).Cancel, dbus_interface='org.unicorn.Engine1.Request'))
                res.append(err(bus.get_object(NAME, {sess_path!r}).GetMessages,
                               dbus_interface='org.unicorn.Engine1.Session'))
                res.append(err(bus.get_object(NAME, {sess_path!r}).Close, dbus_interface='org.unicorn.Engine1.Session'))
                res.append(list(mgr.ListSessions()))
                intro = bus.get_object(NAME, '/org/unicorn/Engine1/session').Introspect(
                    dbus_interface='org.freedesktop.DBus.Introspectable')
                res.append({sess_path.rsplit('/', 1)[1]!r} in intro)
                print(json.dumps(res))
            ''', uid=OTHER_UID)
            self.assertTrue(res[0].startswith('org.freedesktop.DBus.Error.UnknownObject'), res[0])
            self.assertTrue(res[1].startswith('org.freedesktop.DBus.Error.UnknownObject'), res[1])
            self.assertTrue(res[3].startswith('org.freedesktop.DBus.Error.UnknownObject'), res[3])
            self.assertTrue(res[4].startswith('org.freedesktop.DBus.Error.UnknownObject'), res[4])
            for e in res[6:9]:
                self.assertIsNotNone(e)
                self.assertTrue(e.startswith('org.freedesktop.DBus.Error.Unknown'), e)
            self.assertEqual(res[9], [])
            self.assertFalse(res[10], 'session node visible to another uid')
            # The owner still has it, untouched.
            self.assertEqual(self.manager_prop('Sessions'), 1)
        finally:
            owner.stdin.close()
            owner.wait(30)
        self.wait_for(lambda: self.manager_prop('Sessions') == 0, what='session to close')


class TestGeneration(UnicornTestCase):
    def setUp(self):
        super().setUp()
        self.require_model()

    def test_chat_paris(self):
        rc, out, err = self.unicornctl('run', '-t', '0', '-n', '32', DEFAULT_MODEL, 'What is the capital of France? Answer in one word.')
        self.assertEqual(rc, 0, err)
        self.assertIn('Paris', out)
        self.assertNotIn('"type"', out)  # only the text, no protocol

    def test_run_reads_stdin(self):
        rc, out, err = self.unicornctl('run', '-t', '0', '-n', '32', '--stats', DEFAULT_MODEL,
                                       input='What is the capital of France? Answer in one word.\n')
        self.assertEqual(rc, 0, err)
        self.assertIn('Paris', out)
        done = json.loads(err.strip().splitlines()[-1])
        self.assertEqual(done['type'], 'done')
        self.assertGreater(done['generated_tokens'], 0)

    def test_followup_reuses_session(self):
        res = self.run_json(f'''
            s = session(mgr.OpenSession('smollm2-135m', {{}}))
            t1, d1, r1 = chat(s, 'What is the capital of France? Answer in one word.', {GREEDY})
            t2, d2, r2 = chat(s, 'And what is the capital of Germany?', {GREEDY})
            msgs = [list(m) for m in s.GetMessages()]
            print(json.dumps([t1, d1, t2, d2, msgs]))
        ''')
        t1, d1, t2, d2, msgs = res
        self.assertEqual(d1['type'], 'done')
        self.assertEqual(d2['type'], 'done')
        self.assertIn('Paris', t1)
        self.assertGreater(d2['cached_tokens'], d1['prompt_tokens'] // 2, d2)
        self.assertEqual([m[0] for m in msgs], ['user', 'assistant', 'user', 'assistant'])
        self.assertEqual(msgs[1][1], t1)

    def test_two_clients_concurrently(self):
        code = '''
            s = session(mgr.OpenSession('smollm2-135m', {}))
            q = sys.stdin.readline().strip()
            t, d, r = chat(s, q, temperature=0.0, max_tokens=dbus.Int32(32))
            print(json.dumps([t, d]))
        '''
        a = self.spawn_client(code)
        b = self.spawn_client(code)
        a.stdin.write('What is the capital of France? Answer in one word.\n')
        a.stdin.flush()
        b.stdin.write('Name the capital of Japan.\n')
        b.stdin.flush()
        ra, rb = json.loads(a.communicate(timeout=300)[0]), json.loads(b.communicate(timeout=300)[0])
        self.assertEqual(ra[1]['type'], 'done')
        self.assertEqual(rb[1]['type'], 'done')
        self.assertIn('Paris', ra[0])
        self.assertIn('Tokyo', rb[0])

    def test_client_killed_mid_stream(self):
        p = self.spawn_client('''
            s = session(mgr.OpenSession('smollm2-135m', {}))
            def started(rec):
                print('started', flush=True)
            chat(s, 'Write a very long story about a dragon.', on_delta=started, max_tokens=dbus.Int32(2000),
                 temperature=0.7)
        ''')
        self.assertEqual(p.stdout.readline().strip(), 'started')
        self.assertGreaterEqual(self.manager_prop('ActiveRequests'), 1)
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.wait_for(lambda: self.manager_prop('ActiveRequests') == 0, timeout=30, what='ActiveRequests == 0')
        self.wait_for(lambda: self.manager_prop('Sessions') == 0, timeout=30, what='Sessions == 0')

    def test_leave_mid_stream_repeatedly(self):
        # A client that closes its pipe and leaves the bus at once: the engine
        # thread (EPIPE: cancel, finish, queue for the main loop) races the
        # main loop's handling of the departure. The session must wait until
        # the main loop has collected the request (this race once freed a
        # queued request: SIGSEGV).
        p = self.spawn_client('''
            for i in range(40):
                b = dbus.bus.BusConnection(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])
                m = dbus.Interface(b.get_object(NAME, '/org/unicorn/Engine1'), 'org.unicorn.Engine1.Manager')
                s = dbus.Interface(b.get_object(NAME, m.OpenSession('smollm2-135m', {})), 'org.unicorn.Engine1.Session')
                r, w = os.pipe()
                s.Chat([{'role': 'user', 'content': 'Tell me a story.'}], {'max_tokens': dbus.Int32(64)},
                       dbus.types.UnixFd(w))
                os.close(w)
                os.read(r, 1)  # the first byte of the stream: generation is under way
                if i % 2:
                    time.sleep(0.002 * (i % 5))
                os.close(r)
                b.close()
            print('done', flush=True)
        ''')
        self.assertEqual(p.stdout.readline().strip(), 'done')
        p.wait()
        self.wait_for(lambda: self.manager_prop('ActiveRequests') == 0, timeout=30, what='ActiveRequests == 0')
        self.wait_for(lambda: self.manager_prop('Sessions') == 0, timeout=30, what='Sessions == 0')
        self.assertIsNone(self.daemon.poll(), 'unicornd died')

    def test_cancel(self):
        res = self.run_json('''
            s = session(mgr.OpenSession('smollm2-135m', {}))
            state = {}
            def on_delta(rec):
                if 'cancelled' not in state:
                    state['cancelled'] = True
                    req = bus.get_object(NAME, s.Get('org.unicorn.Engine1.Session', 'LastRequest',
                                                     dbus_interface=dbus.PROPERTIES_IFACE))
                    req.Cancel(dbus_interface='org.unicorn.Engine1.Request')
            t, d, r = chat(s, 'Count from one to one thousand.', on_delta=on_delta, max_tokens=dbus.Int32(2000))
            req = bus.get_object(NAME, r)
            st = req.Get('org.unicorn.Engine1.Request', 'State', dbus_interface=dbus.PROPERTIES_IFACE)
            print(json.dumps([d, str(st)]))
        ''')
        self.assertEqual(res[0]['finish_reason'], 'cancelled')
        self.assertEqual(res[1], 'done')
        self.assertEqual(self.manager_prop('ActiveRequests'), 0)

    def test_complete(self):
        res = self.run_json('''
            s = session(mgr.OpenSession('smollm2-135m', {}))
            r, w = os.pipe()
            s.Complete('The capital of France is', {'temperature': 0.0, 'max_tokens': dbus.Int32(8)},
                       dbus.types.UnixFd(w))
            os.close(w)
            print(json.dumps([json.loads(l) for l in os.fdopen(r)]))
        ''')
        self.assertEqual(res[-1]['type'], 'done')
        self.assertLessEqual(res[-1]['generated_tokens'], 8)

    def test_request_properties_while_running(self):
        # The main thread answers these while the engine thread updates them
        # (under Scheduler.lock); the 'tsan' suite runs this under ThreadSanitizer.
        seen = self.run_json('''
            s = session(mgr.OpenSession('smollm2-135m', {}))
            r, w = os.pipe()
            path = s.Chat([{'role': 'user', 'content': 'Count from one to twenty.'}],
                          {'temperature': 0.0, 'max_tokens': dbus.Int32(12)}, dbus.types.UnixFd(w))
            os.close(w)
            req = bus.get_object(NAME, path)
            seen = []
            with os.fdopen(r) as f:
                for line in f:
                    p = req.GetAll('org.unicorn.Engine1.Request', dbus_interface=dbus.PROPERTIES_IFACE)
                    seen.append([json.loads(line)['type'], str(p['State']), int(p['TokensGenerated']),
                                 int(p['TimeToFirstTokenUSec']), int(p['PromptTokens'])])
            print(json.dumps(seen))
        ''')
        self.assertEqual(seen[-1][0], 'done')
        tokens = [t for _, _, t, _, _ in seen]
        self.assertEqual(tokens, sorted(tokens))
        for kind, state, n, ttft, prompt in seen:
            self.assertIn(state, ('running', 'done'))
            self.assertGreater(prompt, 0)
            # A delta is written after the step that made it set the time.
            if kind == 'delta':
                self.assertGreater(n, 0)
                self.assertGreater(ttft, 0)

    def test_ps_json(self):
        rc, out, err = self.unicornctl('load', DEFAULT_MODEL, uid=0)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.unicornctl('ps', '--json')
        self.assertEqual(rc, 0, err)
        ps = json.loads(out)
        self.assertIn(DEFAULT_MODEL, [m['name'] for m in ps['models']])
        self.assertIn(DEFAULT_MODEL, self.manager_prop('LoadedModels'))

    def test_import_and_remove(self):
        src = os.path.join(MODELS, SMALL_MODEL_FILE)
        if not os.path.exists(src):
            self.skipTest(f'{SMALL_MODEL_FILE} missing')
        # The client reads the file, the daemon only sees the fd.
        copy = os.path.join(self.tmp, 'smol.gguf')
        subprocess.run(['cp', src, copy], check=True)
        os.chmod(copy, 0o644)
        rc, out, err = self.unicornctl('import', '--json', copy, 'smollm2')
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)['state'], 'done')
        self.assertIn('smollm2.gguf', self.store_files())
        rc, out, err = self.unicornctl('import', copy, 'smollm2')
        self.assertEqual(rc, 1)
        self.assertIn('already exists', err)
        rc, out, err = self.unicornctl('rm', 'smollm2')
        self.assertEqual(rc, 0, err)
        self.assertNotIn('smollm2.gguf', self.store_files())

    def test_docs_examples(self):
        py = os.path.join(SRC, 'docs', 'examples', 'chat.py')
        p = subprocess.run(self.client_cmd([PYTHON, py, DEFAULT_MODEL, 'What is the capital of France? Answer in one word.']),
                           capture_output=True, text=True, timeout=120, cwd="/")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('Paris', p.stdout)
        c = os.path.join(BUILD, 'docs', 'chat-sdbus')
        if os.access(c, os.X_OK):
            p = subprocess.run(self.client_cmd([c, DEFAULT_MODEL, 'What is the capital of France? Answer in one word.']),
                               capture_output=True, text=True, timeout=120, cwd="/")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn('Paris', p.stdout)


class TestGpuLost(UnicornTestCase):
    """The GPU reset under a running model. The engine's test hook reports VK_ERROR_DEVICE_LOST after the
    process's second step, as a driver does after a reset (lavapipe never loses its device otherwise).
    The request fails saying so, the model's other session is closed, the model leaves LoadedModels,
    and a new session loads it on a new device and answers."""
    config_extra = 'Backend=vulkan\n'
    extra_env = {'UNICORN_VK_TEST_LOSE_DEVICE_AT': '2'}

    def test_request_fails_then_model_loads_again(self):
        self.require_model()
        res = self.run_json('''
            e = err(mgr.LoadModel, 'smollm2-135m')
            if e:
                print(json.dumps({'load': e}))
                sys.exit(0)
            a = session(mgr.OpenSession('smollm2-135m', {}))
            b = session(mgr.OpenSession('smollm2-135m', {}))
            t1, d1, r1 = chat(a, 'What is the capital of France? Answer in one word.', temperature=0.0,
                              max_tokens=dbus.Int32(8))
            for _ in range(100):
                if 'smollm2-135m' not in [str(m[0]) for m in mgr.ListLoadedModels()]:
                    break
                time.sleep(0.1)
            loaded = [str(m[0]) for m in mgr.ListLoadedModels()]
            gone = err(b.GetMessages)
            c = session(mgr.OpenSession('smollm2-135m', {}))
            t2, d2, r2 = chat(c, 'What is the capital of France? Answer in one word.', temperature=0.0,
                              max_tokens=dbus.Int32(8))
            print(json.dumps({'d1': d1, 'loaded': loaded, 'gone': gone, 't2': t2, 'd2': d2}))
        ''')
        if 'load' in res:
            self.skipTest('no Vulkan device for the daemon: ' + res['load'])
        self.assertEqual(res['d1']['type'], 'error', res)
        self.assertIn('GPU was lost', res['d1']['message'])
        self.assertNotIn('smollm2-135m', res['loaded'])
        self.assertIsNotNone(res['gone'], 'the lost model\'s other session is still there')
        self.assertEqual(res['d2']['type'], 'done', res)
        self.assertIn('Paris', res['t2'])
        with open(self.daemon_log.name) as f:
            self.assertIn('the GPU was lost', f.read())


class TestShutdown(UnicornTestCase):
    def test_sigterm_finishes_stream(self):
        self.require_model()
        p = self.spawn_client('''
            s = session(mgr.OpenSession('smollm2-135m', {}))
            def started(rec):
                print('started', flush=True)
            t, d, r = chat(s, 'Write a very long story about a dragon.', on_delta=started,
                           max_tokens=dbus.Int32(2000))
            print(json.dumps(d), flush=True)
        ''')
        self.assertEqual(p.stdout.readline().strip(), 'started')
        self.daemon.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=60)
        done = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(done['finish_reason'], 'cancelled')
        self.assertEqual(self.daemon.wait(30), 0)
        # Bring it back for the class teardown's liveness check.
        self.start_daemon()


class TestParallelSessions(UnicornTestCase):
    """ParallelSessions=4: sessions of one model share a Context, their
    requests step together, and that changes nothing a client can see
    except max_batch_sequences, nor lets one session see another's cache."""
    config_extra = 'ParallelSessions=4\nDefaultContextLength=1024\n'

    # A Complete that runs long (greedy counting does not stop by itself) and a short chat.
    LONG = "'1, 2, 3, 4, 5, 6, 7, 8, 9,', dict(temperature=0.0, max_tokens=dbus.Int32(200))"
    SHORT = "'What is the capital of France? Answer in one word.', temperature=0.0, max_tokens=dbus.Int32(24)"
    COMPLETE = '''
        def start_complete(sess, prompt, params):
            r, w = os.pipe()
            req = sess.Complete(prompt, params, dbus.types.UnixFd(w))
            os.close(w)
            return os.fdopen(r), str(req)
        def tokens(req):
            return int(bus.get_object(NAME, req).Get('org.unicorn.Engine1.Request', 'TokensGenerated',
                                                     dbus_interface=dbus.PROPERTIES_IFACE))
        def read_all(f, out=''):
            done = None
            for line in f:
                rec = json.loads(line)
                if rec['type'] == 'delta':
                    out += rec['text']
                else:
                    done = rec
            f.close()
            return out, done
    '''

    def setUp(self):
        super().setUp()
        self.require_model()

    def test_status_says_parallel(self):
        rc, out, err = self.unicornctl('status', '--json')
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)['parallel_sessions'], 4)

    def test_together_equals_alone(self):
        res = self.run_json(self.COMPLETE + f'''
        a = session(mgr.OpenSession('smollm2-135m', {{}}))
        la, da = read_all(start_complete(a, {self.LONG})[0])
        b = session(mgr.OpenSession('smollm2-135m', {{}}))
        lb, db, _ = chat(b, {self.SHORT})
        # Now together: the long one runs while the chat starts, runs and ends.
        # Sessions that ask for less (as unicorn-http sizes them) take slots of the shared pool.
        c = session(mgr.OpenSession('smollm2-135m', {{'context_length': dbus.UInt32(300)}}))
        d = session(mgr.OpenSession('smollm2-135m', {{'context_length': dbus.UInt32(700)}}))
        lens = [int(x.Get('org.unicorn.Engine1.Session', 'ContextLength', dbus_interface=dbus.PROPERTIES_IFACE))
                for x in (c, d)]
        f, _ = start_complete(c, {self.LONG})
        first = json.loads(f.readline())
        tb, tdb, _ = chat(d, {self.SHORT})
        ta, tda = read_all(f, first.get('text', ''))
        print(json.dumps([la, da, lb, db, ta, tda, tb, tdb, lens]))
        ''')
        la, da, lb, db, ta, tda, tb, tdb, lens = res
        self.assertEqual(lens, [1024, 1024])
        self.assertEqual(da['finish_reason'], 'length', da)
        self.assertEqual(da['max_batch_sequences'], 1, da)
        self.assertEqual(db['max_batch_sequences'], 1, db)
        self.assertIn('Paris', lb)
        # Batched, and byte for byte what each wrote alone.
        self.assertEqual(tdb['max_batch_sequences'], 2, tdb)
        self.assertEqual(tda['max_batch_sequences'], 2, tda)
        self.assertEqual(tb, lb)
        self.assertEqual(ta, la)
        self.assertEqual(tdb['cached_tokens'], 0, tdb)
        self.assertEqual(tda['generated_tokens'], da['generated_tokens'])

    def test_pool_step_is_one_turn(self):
        # Three requests of one pool and one of another (a longer context): the
        # pool's step, however many it carries, is one turn of the round robin, so the
        # lone request is not slowed to a quarter of the steps.
        res = self.run_json(self.COMPLETE + f'''
        pool = [session(mgr.OpenSession('smollm2-135m', {{}})) for _ in range(3)]
        lone = session(mgr.OpenSession('smollm2-135m', {{'context_length': dbus.UInt32(2048)}}))  # longer: a pool of its own
        running = [start_complete(p, '1, 2, 3, 4, 5, 6, 7, 8, 9,', dict(temperature=0.0, max_tokens=dbus.Int32(120)))
                   for p in pool]
        for f, _ in running:
            f.readline()
        before = [tokens(req) for _, req in running]
        f, _ = start_complete(lone, '1, 2, 3,', dict(temperature=0.0, max_tokens=dbus.Int32(24)))
        lt, ld = read_all(f)
        after = [tokens(req) for _, req in running]
        for f, _ in running:
            read_all(f)
        print(json.dumps([ld, before, after]))
        ''')
        ld, before, after = res
        self.assertEqual(ld['generated_tokens'], 24, ld)
        self.assertEqual(ld['max_batch_sequences'], 1, ld)
        for b, a in zip(before, after):
            # One pool step per lone step: about 24 tokens each (72 without the turn rule).
            self.assertLess(a - b, 2 * 24, (before, after))

    def test_reused_slot_starts_empty(self):
        # K keeps the pool alive; X's slot, freed when X closes, goes to the next session.
        owner = self.spawn_client(f'''
            k = session(mgr.OpenSession('smollm2-135m', {{}}))
            xp = mgr.OpenSession('smollm2-135m', {{}})
            t, d, _ = chat(session(xp), {self.SHORT})
            session(xp).Close()
            print(json.dumps(d), flush=True)
            sys.stdin.readline()
        ''')
        try:
            dx = json.loads(owner.stdout.readline())
            self.assertEqual(dx['type'], 'done', dx)
            # Another user, the same prompt: nothing of X's cache may be reused (nor show in cached_tokens).
            res = self.run_json(f'''
                y = session(mgr.OpenSession('smollm2-135m', {{}}))
                used0 = int(y.Get('org.unicorn.Engine1.Session', 'ContextUsed', dbus_interface=dbus.PROPERTIES_IFACE))
                t, d, _ = chat(y, {self.SHORT})
                used1 = int(y.Get('org.unicorn.Engine1.Session', 'ContextUsed', dbus_interface=dbus.PROPERTIES_IFACE))
                print(json.dumps([used0, d, used1]))
            ''', uid=OTHER_UID)
            used0, dy, used1 = res
        finally:
            owner.stdin.close()
            owner.wait(30)
        self.assertEqual(used0, 0)
        self.assertEqual(dy['cached_tokens'], 0, dy)
        self.assertEqual(dy['prompt_tokens'], dx['prompt_tokens'])
        # The cache after a turn: the prompt and the reply but its last token (sampled, never evaluated).
        self.assertEqual(used1, dy['prompt_tokens'] + dy['generated_tokens'] - 1, dy)

    def test_reset_clears_cache(self):
        res = self.run_json(f'''
            s = session(mgr.OpenSession('smollm2-135m', {{}}))
            other = session(mgr.OpenSession('smollm2-135m', {{}}))
            t1, d1, _ = chat(s, {self.SHORT})
            t2, d2, _ = chat(s, 'And of Germany?', temperature=0.0, max_tokens=dbus.Int32(8))
            s.Reset()
            used = int(s.Get('org.unicorn.Engine1.Session', 'ContextUsed', dbus_interface=dbus.PROPERTIES_IFACE))
            t3, d3, _ = chat(s, {self.SHORT})
            print(json.dumps([d1, d2, used, t1, t3, d3]))
        ''')
        d1, d2, used, t1, t3, d3 = res
        self.assertGreater(d2['cached_tokens'], 0, d2)  # a follow-up reuses the cache...
        self.assertEqual(used, 0)                       # ...which Reset empties
        self.assertEqual(d3['cached_tokens'], 0, d3)
        self.assertEqual(d3['prompt_tokens'], d1['prompt_tokens'])
        self.assertEqual(t3, t1)


class TestKeptContext(UnicornTestCase):
    """With ParallelSessions=1 (the default) the context a closed session leaves is kept for the next
    session it holds (making and freeing one took ~230 ms a session on an H100, and `unicornctl run`
    and every HTTP request open a session). The next owner must find it empty."""
    daemon_args = ['--verbose']  # the reuse is logged at debug level only

    def test_next_session_reuses_it_empty(self):
        self.require_model()
        short = TestParallelSessions.SHORT
        first = self.run_json(f'''
            a = session(mgr.OpenSession('smollm2-135m', {{}}))
            t, d, _ = chat(a, {short})
            a.Close()
            print(json.dumps([t, d]))
        ''')
        res = self.run_json(f'''
            b = session(mgr.OpenSession('smollm2-135m', {{}}))
            used0 = int(b.Get('org.unicorn.Engine1.Session', 'ContextUsed', dbus_interface=dbus.PROPERTIES_IFACE))
            t, d, _ = chat(b, {short})
            used1 = int(b.Get('org.unicorn.Engine1.Session', 'ContextUsed', dbus_interface=dbus.PROPERTIES_IFACE))
            print(json.dumps([used0, t, d, used1]))
        ''', uid=OTHER_UID)
        (ta, da), (used0, tb, db, used1) = first, res
        with open(self.daemon_log.name) as f:
            self.assertEqual(f.read().count('Reusing the kept context'), 1)
        self.assertEqual(used0, 0)
        self.assertEqual(db['cached_tokens'], 0, db)  # nothing of the last owner's prompt
        self.assertEqual(db['prompt_tokens'], da['prompt_tokens'])
        self.assertEqual(tb, ta)
        self.assertEqual(used1, db['prompt_tokens'] + db['generated_tokens'] - 1, db)


class TestParallelSessionsVulkan(UnicornTestCase):
    """TestParallelSessions' together-equals-alone through the Vulkan backend (lavapipe in CI): the
    daemon's pool steps run the GPU's batched kernels (several tokens of several sequences in one
    step), which the CPU class never reaches."""
    config_extra = TestParallelSessions.config_extra + 'Backend=vulkan\n'
    LONG, SHORT, COMPLETE = TestParallelSessions.LONG, TestParallelSessions.SHORT, TestParallelSessions.COMPLETE
    test_together_equals_alone = TestParallelSessions.test_together_equals_alone

    def setUp(self):
        super().setUp()
        self.require_model()
        res = self.run_json("print(json.dumps(err(mgr.LoadModel, 'smollm2-135m')))")
        if res:
            self.skipTest('no Vulkan device for the daemon: ' + res)
        backend = self.run_json("print(json.dumps([str(m[1]) for m in mgr.ListLoadedModels() if m[0] == 'smollm2-135m']))")
        self.assertEqual(len(backend), 1)
        self.assertTrue(backend[0].startswith('vulkan'), backend)


if __name__ == '__main__':
    main()
