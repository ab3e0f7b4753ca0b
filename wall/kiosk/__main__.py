"""`python -m wall.kiosk`: the kiosk agent on its own, as the kiosk's systemd unit runs it."""

from wall.kiosk.agent import build_parser, main_kiosk_agent
from wall.redact import configure_logging

configure_logging(keep_paths=True)
raise SystemExit(main_kiosk_agent(build_parser().parse_args()))
