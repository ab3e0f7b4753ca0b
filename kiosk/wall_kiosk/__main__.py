"""`python -m wall_kiosk`: the kiosk agent on its own (the installed script is `wall-kiosk-agent`)."""

from wall_kiosk.agent import main

raise SystemExit(main())
