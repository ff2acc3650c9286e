import sys

from posetrack.cli.main import main

sys.exit(main())
