"""`python -m wall.kiosk`: the kiosk agent on its own, as the kiosk's systemd unit runs it."""

import logging

from wall.kiosk.agent import build_parser, main_kiosk_agent

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
raise SystemExit(main_kiosk_agent(build_parser().parse_args()))
