import sys

from posetrack.cli import main

sys.exit(main())
