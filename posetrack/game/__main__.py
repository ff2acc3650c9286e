"""`python -m posetrack.game`: the demo game (same as `posetrack-demo`)."""

from posetrack.game.app import main

raise SystemExit(main())
