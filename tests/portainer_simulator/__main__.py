"""Command line entry point: python3 -m portainer_simulator --data-dir DIR [options]."""

import argparse
import logging
import signal
import sys

from .server import build_server
from .versions import parse


def parse_args(argv=None):
    """Command line options."""
    parser = argparse.ArgumentParser(prog='python3 -m portainer_simulator', description='Portainer API simulator backed by a real Docker engine.')
    parser.add_argument('--host', default='127.0.0.1', help='listen address (default 127.0.0.1)')
    parser.add_argument('--port', type=int, default=9000, help='listen port (default 9000; 0 picks a free port)')
    parser.add_argument('--data-dir', required=True, help='directory for state.json, compose projects and TLS files')
    parser.add_argument('--portainer-version', default='2.23.0', help='Portainer version to emulate (2.19.0 to 2.23.0; default 2.23.0)')
    parser.add_argument('--tls-cert', help='serve HTTPS with this certificate (PEM)')
    parser.add_argument('--tls-key', help='private key for --tls-cert (PEM)')
    parser.add_argument('--log-file', help='write the simulator log (CLI commands, errors) to this file')
    parser.add_argument('--log-level', default='INFO', help='log level (default INFO)')
    parser.add_argument('--log-requests', action='store_true', help='print one line per request on stdout')
    parser.add_argument('--admin-init-timeout', type=float, default=0,
                        help='seconds after which, without an admin, /api/* answers 303 AdminInitTimeout (default 0: off)')
    parser.add_argument('--auto-update-poller', action='store_true', help='run the background poller for AutoUpdate.Interval')
    options = parser.parse_args(argv)
    if bool(options.tls_cert) != bool(options.tls_key):
        parser.error('--tls-cert and --tls-key go together')
    if not (2, 19, 0) <= parse(options.portainer_version) <= (2, 23, 99):
        parser.error('--portainer-version must be between 2.19.0 and 2.23.x')
    return options


def main(argv=None):
    """Run the simulator until SIGINT/SIGTERM."""
    options = parse_args(argv)
    handlers = [logging.FileHandler(options.log_file)] if options.log_file else [logging.StreamHandler(sys.stderr)]
    logging.basicConfig(level=getattr(logging, options.log_level.upper(), logging.INFO), handlers=handlers,
                        format='%(asctime)s %(levelname)s %(threadName)s %(message)s')
    server = build_server(options)
    host, port = server.server_address[:2]
    scheme = 'https' if options.tls_cert else 'http'
    logging.getLogger('portainer_simulator').info('Portainer %s simulator listening on %s://%s:%s', options.portainer_version, scheme, host, port)
    sys.stdout.write('portainer-simulator %s listening on %s://%s:%s\n' % (options.portainer_version, scheme, host, port))
    sys.stdout.flush()

    def stop(signum, frame):
        del signum, frame
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
