"""``proctorhub-sandbox``: run the sandbox proctoring tool, or print its registration for proctorhub."""

from __future__ import annotations

import argparse
import json
import os
import sys

DEV_REVIEW_SECRET = "dev-sandbox-secret"
SECRET_ENV = "PROCTORHUB_SANDBOX_REVIEW_SECRET"


def _base_url(args) -> str:
    return args.base_url or f"http://{args.host}:{args.port}"


def _add_address(parser) -> None:
    parser.add_argument("--host", default="localhost",
                        help="interface to listen on, and the host name in the tool's URLs (default: localhost; "
                             "over plain http use the same host name as the platform, so the browser keeps the "
                             "tool's cookie on the platform's form post)")
    parser.add_argument("--port", type=int, default=6544, help="port to listen on (default: 6544)")
    parser.add_argument("--base-url", help="the URL browsers reach the tool at (default: http://HOST:PORT)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="proctorhub-sandbox",
        description="A local stand-in for an LTI 1.3 proctoring vendor (1EdTech Proctoring Services 1.0), to run "
                    "proctorhub's whole flow on one machine: launches, LtiStartAssessment, LtiEndAssessment, and "
                    "signed review callbacks to the `sandbox` backend.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="serve the tool",
        description="Serve the tool (waitress). It serves its JWKS at /jwks, the LTI Dynamic Registration "
                    "initiation URL at /register, the OIDC login at /login and the launch (redirect) URL at /launch, "
                    "and posts reviews to PLATFORM/api/v1/reviews/sandbox. Without --client-id it registers "
                    "itself: paste http://HOST:PORT/register into proctorhub's admin (Tool configurations → "
                    "Register a tool by its registration URL), then approve the tool there.")
    serve.add_argument("--platform", required=True, help="proctorhub's base URL, e.g. http://localhost:6543")
    serve.add_argument("--client-id", default="",
                       help="the client_id of a tool configuration made by hand in proctorhub (default: none; the "
                            "tool registers itself through LTI Dynamic Registration at /register)")
    serve.add_argument("--deployment-id", default="1",
                       help="with --client-id, the configuration's deployment id (default: 1)")
    serve.add_argument("--name", default="Sandbox vendor",
                       help="the name the tool registers under (default: Sandbox vendor)")
    serve.add_argument("--issuer", help="proctorhub.issuer, if it differs from --platform")
    _add_address(serve)
    serve.add_argument("--key-file", default="proctorhub-sandbox-key.pem",
                       help="the tool's RSA private key (PEM); generated there, mode 0600, if missing "
                            "(default: ./proctorhub-sandbox-key.pem)")
    serve.add_argument("--db-file", default="proctorhub-sandbox.sqlite",
                       help="the tool's SQLite file: accepted nonces and open launches "
                            "(default: ./proctorhub-sandbox.sqlite)")
    serve.add_argument("--review-secret", default=os.environ.get(SECRET_ENV, DEV_REVIEW_SECRET),
                       help=f"proctorhub.backend.sandbox.secret, the shared secret reviews are signed with "
                            f"(default: ${SECRET_ENV}, else development.ini's {DEV_REVIEW_SECRET!r})")

    registration = commands.add_parser(
        "registration", help="print the JSON that configures this tool in proctorhub by hand",
        description="Print the body of POST /admin/configurations/ (proctorhub's admin JSON API) for a tool served "
                    "at --base-url (or http://HOST:PORT). proctorhub answers with the client_id to pass to serve "
                    "--client-id. (Without it, the tool registers itself: see serve --help.)")
    _add_address(registration)
    registration.add_argument("--name", default="Sandbox vendor", help="the configuration's name")
    registration.add_argument("--deployment-id", default="1", help="the deployment id (default: 1)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .settings import ToolSettings, registration

    if args.command == "registration":
        json.dump(registration(_base_url(args), name=args.name, deployment_id=args.deployment_id), sys.stdout,
                  indent=2)
        sys.stdout.write("\n")
        return 0

    import waitress

    from .app import make_app

    settings = ToolSettings(platform_url=args.platform, client_id=args.client_id, base_url=_base_url(args),
                            deployment_id=args.deployment_id, issuer=args.issuer or "", name=args.name,
                            review_secret=args.review_secret, key_file=args.key_file, db_file=args.db_file)
    app = make_app(settings)
    print(f"sandbox tool on {settings.base_url}: registration {settings.registration_url}, login "
          f"{settings.login_url}, launch {settings.launch_url}, JWKS {settings.jwks_url}; trusting {settings.issuer}",
          file=sys.stderr)
    waitress.serve(app, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
