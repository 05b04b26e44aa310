"""Run the django-oauth-toolkit provider: `python -m tests.dot_provider --port 0` makes its database in
a temporary directory, prints its URL and serves on 127.0.0.1 until its stdin closes (so it ends with
the test process that started it). The environment carries its secret key, RSA key and set-up token
(DotProvider in tests/dot_provider/__init__.py sets them)."""

import argparse
import os
import sys
import tempfile
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="django-oauth-toolkit as an OpenID Connect provider (tests only).")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dot-provider-") as workdir:
        os.environ["DOT_PROVIDER_DB"] = os.path.join(workdir, "provider.sqlite3")
        os.environ["DJANGO_SETTINGS_MODULE"] = "tests.dot_provider.settings"
        import django
        from django.core.management import call_command
        from django.core.wsgi import get_wsgi_application

        django.setup()
        call_command("migrate", run_syncdb=True, verbosity=0)
        server = make_server(
            "127.0.0.1", args.port, get_wsgi_application(), server_class=_Server, handler_class=_QuietHandler
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
        try:
            sys.stdin.read()  # until the parent closes our stdin or exits
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
