from wall.cli import main

raise SystemExit(main())
