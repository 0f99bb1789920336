#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""unicorn-http against the real daemon: issue 5's "How it is checked" list.

unicorn-http runs as nobody (like any unprivileged client) on a private
system bus with the project's policy and dbusmock's polkitd; unicornd runs
as root. The official `openai` and `ollama` Python packages are installed
into a venv in the build directory on first use (pinned versions, from
PyPI); raw cases go through curl.
"""

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unicorntest import BUILD, NOBODY, UnicornTestCase, main  # noqa: E402

UNICORN_HTTP = os.environ.get('UNICORN_HTTP', os.path.join(BUILD, 'client', 'unicorn-http'))
VENV = os.path.join(BUILD, 'http-venv')
# Pinned so that a run today and a run next year test the same clients.
PIP_PACKAGES = ['openai==3.54.0', 'ollama==0.6.3']
MODEL = 'smollm2-135m'
FRANCE = 'What is the capital of France? Answer in one word.'
JAPAN = 'Name the capital of Japan.'
TOKEN = 'test-token-0123456789abcdef'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def ensure_venv():
    """Returns the venv's python, or None with a reason."""
    py = os.path.join(VENV, 'bin', 'python')
    stamp = os.path.join(VENV, 'unicorn-packages.txt')
    want = '\n'.join(PIP_PACKAGES)
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == want:
                return py, None
    try:
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run(['/usr/bin/python3', '-m', 'venv', VENV], check=True, capture_output=True, timeout=300)
        subprocess.run([py, '-m', 'pip', 'install', '-q', '--disable-pip-version-check'] + PIP_PACKAGES,
                       check=True, capture_output=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        out = getattr(e, 'stderr', b'') or b''
        return None, f'cannot install {PIP_PACKAGES} into {VENV}: {e} {out.decode(errors="replace")[-500:]}'
    with open(stamp, 'w') as f:
        f.write(want)
    return py, None


class HttpTestCase(UnicornTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not os.access(UNICORN_HTTP, os.X_OK):
            raise RuntimeError(f'{UNICORN_HTTP} is not built')
        cls.venv_python, cls.venv_error = ensure_venv()
        cls.adapters = []
        cls.port = cls.start_adapter(['--max-per-client=64', '--max-generations=64'])
        # A second one as a remote-facing service would be: tokens, CORS,
        # one generation per client.
        cls.tokens = os.path.join(cls.tmp, 'tokens')
        with open(cls.tokens, 'w') as f:
            f.write('# comment\n\n' + TOKEN + '\nanother-token-abcdefghijklmnop\n')
        os.chown(cls.tokens, NOBODY, NOBODY)
        os.chmod(cls.tokens, 0o600)
        cls.auth_port = cls.start_adapter(['--tokens-file', cls.tokens, '--cors-origin', 'http://app.example',
                                           '--max-per-client=1'])

    @classmethod
    def start_adapter(cls, args, port=None):
        port = port or free_port()
        with open(os.path.join(cls.tmp, f'unicorn-http-{port}.log'), 'w') as log:
            p = subprocess.Popen(['setpriv', f'--reuid={NOBODY}', f'--regid={NOBODY}', '--clear-groups', '--',
                                  UNICORN_HTTP, '--listen', f'127.0.0.1:{port}', '--verbose'] + args,
                                 stdout=log, stderr=subprocess.STDOUT, cwd='/')
        cls.adapters.append(p)
        for _ in range(100):
            try:
                with socket.create_connection(('127.0.0.1', port), timeout=1):
                    return port
            except OSError:
                if p.poll() is not None:
                    with open(log.name) as f:
                        raise RuntimeError('unicorn-http exited: ' + f.read())
                time.sleep(0.05)
        raise RuntimeError('unicorn-http did not start listening')

    @classmethod
    def tearDownClass(cls):
        for p in getattr(cls, 'adapters', []):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        super().tearDownClass()

    def tearDown(self):
        super().tearDown()
        for p in self.adapters:
            self.assertIsNone(p.poll(), 'unicorn-http died')

    # --- helpers ---------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, port=None, timeout=120):
        c = http.client.HTTPConnection('127.0.0.1', port or self.port, timeout=timeout)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict(r.getheaders()), data

    def curl(self, *args, port=None):
        """Runs curl; returns (status, body)."""
        p = subprocess.run(['curl', '-sS', '-o', '-', '-w', '\n%{http_code}'] +
                           [a.replace('URL', f'http://127.0.0.1:{port or self.port}') for a in args],
                           capture_output=True, text=True, timeout=120)
        body, _, code = p.stdout.rpartition('\n')
        return int(code), body

    def run_venv(self, code, timeout=300):
        if not self.venv_python:
            self.skipTest(self.venv_error)
        prelude = textwrap.dedent(f'''
            import json, sys
            BASE = 'http://127.0.0.1:{self.port}'
            MODEL = {MODEL!r}
            FRANCE = {FRANCE!r}
            JAPAN = {JAPAN!r}
            def out(v):
                print(json.dumps(v))
        ''')
        p = subprocess.run([self.venv_python, '-c', prelude + textwrap.dedent(code)], capture_output=True, text=True,
                           timeout=timeout)
        self.assertEqual(p.returncode, 0, f'client failed:\n{p.stderr[-3000:]}\n{p.stdout[-1000:]}')
        return json.loads(p.stdout.strip().splitlines()[-1])

    def stream_chat(self, prompt, max_tokens=16, port=None, results=None, idx=None):
        """A streamed OpenAI chat through http.client; returns the text."""
        body = {'model': MODEL, 'messages': [{'role': 'user', 'content': prompt}], 'temperature': 0,
                'max_tokens': max_tokens, 'stream': True}
        c = http.client.HTTPConnection('127.0.0.1', port or self.port, timeout=600)
        c.request('POST', '/v1/chat/completions', body=json.dumps(body), headers={'Content-Type': 'application/json'})
        r = c.getresponse()
        text, done = '', False
        if r.status != 200:
            raise AssertionError(f'status {r.status}: {r.read()[:300]}')
        for line in r:
            line = line.decode().strip()
            if not line.startswith('data: '):
                continue
            if line == 'data: [DONE]':
                done = True
                break
            chunk = json.loads(line[6:])
            if 'error' in chunk:
                raise AssertionError(chunk['error'])
            for ch in chunk['choices']:
                text += ch['delta'].get('content') or ''
        c.close()
        if not done:
            raise AssertionError('stream ended without [DONE]')
        if results is not None:
            results[idx] = text
        return text

    def active_requests(self):
        return int(self.manager_prop('ActiveRequests'))


class TestOps(HttpTestCase):
    def test_health_and_version(self):
        status, _, data = self.request('GET', '/health')
        self.assertEqual(status, 200, data)
        self.assertEqual(json.loads(data)['status'], 'ok')
        status, _, data = self.request('GET', '/api/version')
        self.assertEqual(status, 200)
        self.assertIn('version', json.loads(data))

    def test_unit_refuses_non_loopback_without_tokens(self):
        p = subprocess.run(['setpriv', f'--reuid={NOBODY}', f'--regid={NOBODY}', '--clear-groups', '--',
                            UNICORN_HTTP, '--listen', f'0.0.0.0:{free_port()}'], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn('not a loopback address', p.stderr)
        # A world-readable token file is refused too.
        loose = os.path.join(self.tmp, 'loose-tokens')
        with open(loose, 'w') as f:
            f.write(TOKEN + '\n')
        os.chmod(loose, 0o644)
        p = subprocess.run([UNICORN_HTTP, '--tokens-file', loose, '--listen', f'127.0.0.1:{free_port()}'],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('readable or writable by others', p.stderr)

    def test_metrics(self):
        self.require_model()
        self.stream_chat(FRANCE, max_tokens=4)
        status, headers, data = self.request('GET', '/metrics')
        self.assertEqual(status, 200)
        self.assertTrue(headers['Content-Type'].startswith('text/plain'))
        text = data.decode()
        self.assertIn('unicorn_http_requests_total{endpoint="/v1/chat/completions",status="200"}', text)
        self.assertIn('unicorn_http_time_to_first_token_seconds_bucket{le="+Inf"}', text)
        self.assertIn('unicorn_http_tokens_per_second_count', text)
        self.assertRegex(text, r'unicorn_http_completion_tokens_total [1-9]')


class TestOpenAI(HttpTestCase):
    def test_models(self):
        ids = self.run_venv('''
            import openai
            c = openai.OpenAI(base_url=BASE + '/v1', api_key='unused')
            out([m.id for m in c.models.list()])
        ''')
        self.assertIn(MODEL, ids)

    def test_chat(self):
        self.require_model()
        r = self.run_venv('''
            import openai
            c = openai.OpenAI(base_url=BASE + '/v1', api_key='unused')
            r = c.chat.completions.create(model=MODEL, messages=[{'role': 'user', 'content': FRANCE}],
                                          temperature=0, max_tokens=16, seed=1, stop=['\\n\\n'])
            out({'text': r.choices[0].message.content, 'finish': r.choices[0].finish_reason,
                 'prompt': r.usage.prompt_tokens, 'completion': r.usage.completion_tokens, 'object': r.object})
        ''')
        self.assertIn('Paris', r['text'])
        self.assertEqual(r['object'], 'chat.completion')
        self.assertIn(r['finish'], ('stop', 'length'))
        self.assertGreater(r['prompt'], 5)
        self.assertGreater(r['completion'], 0)

    def test_chat_stream(self):
        self.require_model()
        r = self.run_venv('''
            import openai
            c = openai.OpenAI(base_url=BASE + '/v1', api_key='unused')
            text, finish, usage, n = '', None, None, 0
            for ch in c.chat.completions.create(model=MODEL, messages=[{'role': 'user', 'content': JAPAN}],
                                                temperature=0, max_completion_tokens=16, stream=True,
                                                stream_options={'include_usage': True}):
                n += 1
                if ch.usage:
                    usage = ch.usage.completion_tokens
                for c0 in ch.choices:
                    text += c0.delta.content or ''
                    finish = c0.finish_reason or finish
            out({'text': text, 'finish': finish, 'usage': usage, 'chunks': n})
        ''')
        self.assertIn('Tokyo', r['text'])
        self.assertIn(r['finish'], ('stop', 'length'))
        self.assertGreater(r['usage'], 0)
        self.assertGreater(r['chunks'], 3)

    def test_completions(self):
        self.require_model()
        r = self.run_venv('''
            import openai
            c = openai.OpenAI(base_url=BASE + '/v1', api_key='unused')
            r = c.completions.create(model=MODEL, prompt='The capital of France is', temperature=0, max_tokens=8)
            s = ''.join(x.choices[0].text for x in c.completions.create(
                model=MODEL, prompt='The capital of France is', temperature=0, max_tokens=8, stream=True) if x.choices)
            out({'text': r.choices[0].text, 'stream': s, 'object': r.object, 'usage': r.usage.completion_tokens})
        ''')
        self.assertTrue(r['text'].strip(), r)
        self.assertEqual(r['text'], r['stream'])
        self.assertEqual(r['object'], 'text_completion')
        self.assertLessEqual(r['usage'], 8)

    def test_unknown_model(self):
        r = self.run_venv('''
            import openai
            c = openai.OpenAI(base_url=BASE + '/v1', api_key='unused', max_retries=0)
            try:
                c.chat.completions.create(model='no-such-model', messages=[{'role': 'user', 'content': 'hi'}])
                out({'status': 200})
            except openai.NotFoundError as e:
                out({'status': e.status_code, 'code': e.code, 'message': e.message})
        ''')
        self.assertEqual(r['status'], 404)
        self.assertEqual(r['code'], 'model_not_found')
        self.assertIn('no-such-model', r['message'])


class TestOllama(HttpTestCase):
    def test_list_and_show(self):
        r = self.run_venv('''
            import ollama
            c = ollama.Client(host=BASE)
            names = [m.model for m in c.list().models]
            show = c.show(MODEL)
            ps = [m.model for m in c.ps().models]
            out({'names': names, 'format': show.details.format, 'ps': ps})
        ''')
        self.assertIn(MODEL, r['names'])
        self.assertEqual(r['format'], 'gguf')

    def test_chat(self):
        self.require_model()
        r = self.run_venv('''
            import ollama
            c = ollama.Client(host=BASE)
            opts = {'temperature': 0, 'num_predict': 16, 'seed': 3, 'top_k': 40, 'top_p': 0.9, 'min_p': 0.0,
                    'repeat_penalty': 1.0, 'presence_penalty': 0.0, 'frequency_penalty': 0.0}
            r = c.chat(model=MODEL + ':latest', messages=[{'role': 'user', 'content': FRANCE}], options=opts,
                       keep_alive='5m')
            text = ''
            last = None
            for ch in c.chat(model=MODEL, messages=[{'role': 'user', 'content': JAPAN}], stream=True,
                             options={'temperature': 0, 'num_predict': 16}):
                text += ch.message.content
                last = ch
            stopped = c.chat(model=MODEL, messages=[{'role': 'user', 'content': FRANCE}],
                             options={'temperature': 0, 'num_predict': 16, 'stop': ['Paris']})
            out({'text': r.message.content, 'done': r.done, 'reason': r.done_reason, 'eval': r.eval_count,
                 'prompt': r.prompt_eval_count, 'total': r.total_duration, 'stream': text,
                 'last_done': last.done, 'last_eval': last.eval_count, 'stopped': stopped.message.content})
        ''')
        self.assertIn('Paris', r['text'])
        self.assertTrue(r['done'])
        self.assertIn(r['reason'], ('stop', 'length'))
        self.assertGreater(r['eval'], 0)
        self.assertGreater(r['prompt'], 5)
        self.assertGreater(r['total'], 0)
        self.assertIn('Tokyo', r['stream'])
        self.assertTrue(r['last_done'])
        self.assertGreater(r['last_eval'], 0)
        self.assertNotIn('Paris', r['stopped'])

    def test_generate(self):
        self.require_model()
        r = self.run_venv('''
            import ollama
            c = ollama.Client(host=BASE)
            r = c.generate(model=MODEL, prompt=FRANCE, options={'temperature': 0, 'num_predict': 16})
            s = ''.join(x.response for x in c.generate(model=MODEL, prompt=JAPAN, stream=True,
                                                       options={'temperature': 0, 'num_predict': 16}))
            load = c.generate(model=MODEL, prompt='')
            out({'text': r.response, 'done': r.done, 'stream': s, 'load': load.done_reason})
        ''')
        self.assertIn('Paris', r['text'])
        self.assertTrue(r['done'])
        self.assertIn('Tokyo', r['stream'])
        self.assertEqual(r['load'], 'load')

    def test_unknown_model(self):
        r = self.run_venv('''
            import ollama
            c = ollama.Client(host=BASE)
            try:
                c.chat(model='no-such-model', messages=[{'role': 'user', 'content': 'hi'}])
                out({'status': 200})
            except ollama.ResponseError as e:
                out({'status': e.status_code, 'error': e.error})
        ''')
        self.assertEqual(r['status'], 404)
        self.assertIn('no-such-model', r['error'])


class TestRaw(HttpTestCase):
    def test_bad_requests(self):
        chat = 'URL/v1/chat/completions'
        ok_msgs = '"messages":[{"role":"user","content":"hi"}]'
        cases = [
            # (curl args, status, text in the message)
            (['-d', '{bad json', chat], 400, 'not valid JSON'),
            (['-d', '[1,2]', chat], 400, 'must be a JSON object'),
            (['-d', '', chat], 400, 'empty'),
            (['-d', '{"model":"x","model":"y",' + ok_msgs + '}', chat], 400, 'duplicate'),
            (['-d', '{' + ok_msgs + '}', chat], 400, "'model' is required"),
            (['-d', '{"model":7,' + ok_msgs + '}', chat], 400, "'model' must be a string"),
            (['-d', '{"model":"smollm2-135m"}', chat], 400, "'messages' is required"),
            (['-d', '{"model":"smollm2-135m","messages":"hi"}', chat], 400, 'non-empty array'),
            (['-d', '{"model":"smollm2-135m","messages":[{"role":"user"}]}', chat], 400, 'content'),
            (['-d', '{"model":"smollm2-135m","messages":[{"role":"wizard","content":"x"}]}', chat], 400, 'role'),
            (['-d', '{"model":"smollm2-135m",' + ok_msgs + ',"temperature":"hot"}', chat], 400, 'temperature'),
            (['-d', '{"model":"smollm2-135m",' + ok_msgs + ',"temperature":7}', chat], 400, 'between'),
            (['-d', '{"model":"smollm2-135m",' + ok_msgs + ',"max_tokens":1.5}', chat], 400, 'integer'),
            (['-d', '{"model":"smollm2-135m",' + ok_msgs + ',"stream":"yes"}', chat], 400, 'true or false'),
            (['-d', '{"model":"smollm2-135m",' + ok_msgs + ',"stop":[1]}', chat], 400, 'stop'),
            (['-d', '{"model":"smollm2-135m",' + ok_msgs + ',"n":3}', chat], 400, 'n=1'),
            (['-d', '{"model":"smollm2-135m",' + ok_msgs + ',"tools":[{"type":"function"}]}', chat], 400, 'Tools'),
            (['-d', '{"model":"smollm2-135m","messages":[{"role":"user","content":[{"type":"image_url"}]}]}',
              chat], 400, 'text content'),
            (['-d', '{"model":"smollm2-135m","messages":[{"role":"user","content":"a\\u0000b"}]}', chat], 400, ''),
            (['-d', '{"model":"smollm2-135m","prompt":["a","b"]}', 'URL/v1/completions'], 400, 'prompt'),
            (['-d', '{"model":"smollm2-135m","messages":[],"options":[]}', 'URL/api/chat'], 400, 'options'),
            (['-d', '{"model":"smollm2-135m","messages":[]}', 'URL/api/chat'], 400, 'non-empty array'),
            (['-d', '{"model":"smollm2-135m",' + ok_msgs + ',"options":{"num_predict":"x"}}', 'URL/api/chat'], 400,
             'options.num_predict'),
            (['-d', '{"model":"smollm2-135m",' + ok_msgs + ',"format":"json"}', 'URL/api/chat'], 400, 'format'),
            (['-d', '{"model":"smollm2-135m","prompt":"x","images":["aGk="]}', 'URL/api/generate'], 400, 'Images'),
            (['URL/v1/nothing'], 404, 'Unknown path'),
            (['URL/api/nothing'], 404, 'Unknown path'),
            (['-X', 'DELETE', 'URL/v1/models'], 405, 'not allowed'),
            (['URL/v1/chat/completions'], 405, 'use POST'),
            (['-X', 'PUT', '-d', '{}', 'URL/api/chat'], 405, 'not allowed'),
            (['URL/v1/models/no-such-model'], 404, 'does not exist'),
            (['-H', 'Host: attacker.example', 'URL/v1/models'], 403, 'loopback names'),
            (['-H', 'Origin: http://attacker.example', 'URL/v1/models'], 403, 'web pages'),
        ]
        for args, status, text in cases:
            code, body = self.curl(*args)
            self.assertEqual(code, status, f'{args}: {body}')
            j = json.loads(body)
            msg = j['error'] if isinstance(j['error'], str) else j['error']['message']
            self.assertIn(text, msg, args)
            if not isinstance(j['error'], str):
                self.assertEqual(set(j['error']), {'message', 'type', 'param', 'code'})
        # Oversized bodies, with and without Content-Length.
        big = os.path.join(self.tmp, 'big.json')
        with open(big, 'w') as f:
            f.write('{"model":"' + 'a' * (2 * 1024 * 1024) + '"}')
        for extra in ([], ['-H', 'Transfer-Encoding: chunked']):
            code, body = self.curl('--data-binary', '@' + big, *extra, chat)
            self.assertEqual(code, 413, body)
            self.assertIn('larger than', body)
        code, body = self.curl('-H', 'X-Huge: ' + 'h' * 100000, 'URL/v1/models')
        self.assertEqual(code, 431)
        # Still serving.
        status, _, _ = self.request('GET', '/health')
        self.assertEqual(status, 200)

    def test_auth_and_cors(self):
        p = self.auth_port
        self.assertEqual(self.curl('URL/v1/models', port=p)[0], 401)
        self.assertEqual(self.curl('-H', 'Authorization: Bearer wrong-token-0123456789', 'URL/v1/models', port=p)[0],
                         401)
        self.assertEqual(self.curl('-H', 'Authorization: Basic Zm9vOmJhcg==', 'URL/api/tags', port=p)[0], 401)
        code, body = self.curl('-H', f'Authorization: Bearer {TOKEN}', 'URL/v1/models', port=p)
        self.assertEqual(code, 200, body)
        self.assertEqual(self.curl('URL/health', port=p)[0], 200)  # liveness needs no token
        # Browser preflight, then a real request from the allowed origin.
        status, headers, _ = self.request('OPTIONS', '/v1/chat/completions', port=p,
                                          headers={'Origin': 'http://app.example',
                                                   'Access-Control-Request-Method': 'POST',
                                                   'Access-Control-Request-Headers': 'authorization, content-type'})
        self.assertEqual(status, 204)
        self.assertEqual(headers.get('Access-Control-Allow-Origin'), 'http://app.example')
        status, headers, _ = self.request('GET', '/v1/models', port=p, headers={
            'Origin': 'http://app.example', 'Authorization': f'Bearer {TOKEN}'})
        self.assertEqual(status, 200)
        self.assertEqual(headers.get('Access-Control-Allow-Origin'), 'http://app.example')
        status, _, _ = self.request('GET', '/v1/models', port=p, headers={
            'Origin': 'http://other.example', 'Authorization': f'Bearer {TOKEN}'})
        self.assertEqual(status, 403)
        # Without --cors-origin nothing is allowed cross-origin.
        status, headers, _ = self.request('GET', '/v1/models', headers={'Origin': 'http://app.example'})
        self.assertEqual(status, 403)
        self.assertNotIn('Access-Control-Allow-Origin', headers)
        if self.have_model:
            r = self.run_venv(f'''
                import openai
                c = openai.OpenAI(base_url='http://127.0.0.1:{p}/v1', api_key={TOKEN!r})
                r = c.chat.completions.create(model=MODEL, messages=[{{'role': 'user', 'content': FRANCE}}],
                                              temperature=0, max_tokens=16)
                try:
                    openai.OpenAI(base_url='http://127.0.0.1:{p}/v1', api_key='bad-token-0123456789',
                                  max_retries=0).models.list()
                    bad = 200
                except openai.AuthenticationError as e:
                    bad = e.status_code
                out({{'text': r.choices[0].message.content, 'bad': bad}})
            ''')
            self.assertIn('Paris', r['text'])
            self.assertEqual(r['bad'], 401)

    def test_per_client_limit(self):
        self.require_model()
        p = self.auth_port
        c = http.client.HTTPConnection('127.0.0.1', p, timeout=120)
        c.request('POST', '/v1/chat/completions', headers={'Authorization': f'Bearer {TOKEN}'},
                  body=json.dumps({'model': MODEL, 'messages': [{'role': 'user', 'content': 'Tell a long story.'}],
                                   'max_tokens': 4000, 'stream': True}))
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        r.readline()
        code, body = self.curl('-H', f'Authorization: Bearer {TOKEN}', '-d',
                               json.dumps({'model': MODEL, 'messages': [{'role': 'user', 'content': 'hi'}]}),
                               'URL/v1/chat/completions', port=p)
        self.assertEqual(code, 429, body)
        self.assertIn('rate_limit', body)
        c.close()
        self.wait_for(lambda: self.active_requests() == 0, 10, 'the cancelled request to go')


class TestStreaming(HttpTestCase):
    def test_disconnect_cancels(self):
        self.require_model()
        self.wait_for(lambda: self.active_requests() == 0, 30, 'an idle daemon')
        for path, body in (('/v1/chat/completions', {'stream': True, 'max_tokens': 4000,
                                                     'messages': [{'role': 'user', 'content': 'Tell a long story.'}]}),
                           ('/api/generate', {'prompt': 'Tell a long story.', 'options': {'num_predict': 4000}}),
                           ('/api/chat', {'stream': False, 'options': {'num_predict': 4000},
                                          'messages': [{'role': 'user', 'content': 'Tell a long story.'}]})):
            body['model'] = MODEL
            s = socket.create_connection(('127.0.0.1', self.port))
            data = json.dumps(body).encode()
            s.sendall(f'POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n'
                      f'Content-Length: {len(data)}\r\n\r\n'.encode() + data)
            self.wait_for(lambda: self.active_requests() == 1, 60, 'the request to run')
            if body.get('stream', True):
                got = b''
                # Past the prompt: two tokens out (the daemon checks for
                # cancellation between steps, and a prefill is one step).
                while got.count(b'"done":false') + got.count(b'"delta":{"content"') < 2:
                    chunk = s.recv(4096)
                    self.assertTrue(chunk, 'the stream ended early')
                    got += chunk
            else:
                time.sleep(1)
            s.close()
            t = time.time()
            self.wait_for(lambda: self.active_requests() == 0, 5, f'{path}: ActiveRequests back to 0')
            self.assertLess(time.time() - t, 2.0)
            print(f'{path}: cancelled {time.time() - t:.3f} s after the disconnect', file=sys.stderr)

    def test_50_concurrent_streams(self):
        self.require_model()
        n = 50
        results = [None] * n
        errors = []

        def one(i):
            try:
                self.stream_chat(FRANCE if i % 2 == 0 else JAPAN, max_tokens=16, results=results, idx=i)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f'{i}: {e}')

        t0 = time.time()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        print(f'{n} concurrent streamed chats in {time.time() - t0:.1f} s', file=sys.stderr)
        self.assertEqual(errors, [])
        for i, text in enumerate(results):
            self.assertIn('Paris' if i % 2 == 0 else 'Tokyo', text or '', f'stream {i}: {text!r}')
        self.wait_for(lambda: self.active_requests() == 0, 10, 'all requests to end')


class TestStreamingParallel(TestStreaming):
    """The same streams with the daemon batching sessions: the adapter sizes
    each session to its request, and those share pools of 8 (docs/http.md)."""
    config_extra = 'ParallelSessions=8\nDefaultContextLength=512\n'


if __name__ == '__main__':
    main()
