# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A read-only Docker registry (HTTP API v2) for the integration tests, standard library only.

It serves the images of ``docker save`` archives. ``--tags FILE`` is a JSON map ``"repo:tag" -> archive``,
read again on every request, so a test moves a tag to another image by rewriting the file. With ``--user``
and ``--password`` every request needs HTTP basic authentication (the engine answers the challenge with the
credentials it was given in X-Registry-Auth). Engines pull from 127.0.0.0/8 over plain HTTP.
"""

import argparse
import base64
import gzip
import hashlib
import json
import os
import tarfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json'


def digest(data):
    return 'sha256:' + hashlib.sha256(data).hexdigest()


class Archives:
    """Manifests and blobs of docker save archives, built once per archive."""

    def __init__(self):
        self.images = {}
        self.blobs = {}

    def manifest(self, path):
        if path not in self.images:
            with tarfile.open(path) as tar:
                entry = json.load(tar.extractfile('manifest.json'))[0]
                config = tar.extractfile(entry['Config']).read()
                layers = []
                for name in entry['Layers']:
                    blob = gzip.compress(tar.extractfile(name).read(), mtime=0)
                    self.blobs[digest(blob)] = blob
                    layers.append({'mediaType': 'application/vnd.docker.image.rootfs.diff.tar.gzip', 'size': len(blob), 'digest': digest(blob)})
            self.blobs[digest(config)] = config
            manifest = {'schemaVersion': 2, 'mediaType': MANIFEST_TYPE,
                        'config': {'mediaType': 'application/vnd.docker.container.image.v1+json', 'size': len(config), 'digest': digest(config)},
                        'layers': layers}
            self.images[path] = json.dumps(manifest).encode()
        return self.images[path]


def make_handler(args, archives):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *values):
            with open(args.log, 'a', encoding='utf-8') as handle:
                handle.write('%s %s\n' % (self.command, fmt % values))

        def _send(self, status, body=b'', headers=None):
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header('Content-Length', str(len(body)))
            self.send_header('Docker-Distribution-API-Version', 'registry/2.0')
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(body)

        def _error(self, status, code, message, headers=None):
            body = json.dumps({'errors': [{'code': code, 'message': message}]}).encode()
            self._send(status, body, dict(headers or {}, **{'Content-Type': 'application/json'}))

        def _authorized(self):
            if not args.user:
                return True
            expected = 'Basic ' + base64.b64encode(('%s:%s' % (args.user, args.password)).encode()).decode()
            return self.headers.get('Authorization') == expected

        def do_GET(self):  # noqa: N802 (http.server naming)
            if not self._authorized():
                return self._error(401, 'UNAUTHORIZED', 'authentication required', {'WWW-Authenticate': 'Basic realm="pier-test"'})
            path = self.path.split('?')[0]
            if path in ('/v2', '/v2/'):
                return self._send(200, b'{}', {'Content-Type': 'application/json'})
            if '/manifests/' in path:
                repo, ref = path[len('/v2/'):].split('/manifests/', 1)
                with open(args.tags, encoding='utf-8') as handle:
                    tags = json.load(handle)
                archive = tags.get('%s:%s' % (repo, ref))
                if archive is None:
                    for candidate in tags.values():
                        if digest(archives.manifest(candidate)) == ref:
                            archive = candidate
                if archive is None:
                    return self._error(404, 'MANIFEST_UNKNOWN', 'manifest unknown')
                body = archives.manifest(archive)
                return self._send(200, body, {'Content-Type': MANIFEST_TYPE, 'Docker-Content-Digest': digest(body)})
            if '/blobs/' in path:
                blob = archives.blobs.get(path.rsplit('/', 1)[1])
                if blob is None:
                    return self._error(404, 'BLOB_UNKNOWN', 'blob unknown')
                return self._send(200, blob, {'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest(blob)})
            return self._error(404, 'NAME_UNKNOWN', 'not found')

        do_HEAD = do_GET

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--tags', required=True)
    parser.add_argument('--user')
    parser.add_argument('--password')
    parser.add_argument('--log', default=os.devnull)
    args = parser.parse_args()
    server = ThreadingHTTPServer(('127.0.0.1', args.port), make_handler(args, Archives()))
    server.serve_forever()


if __name__ == '__main__':
    main()
