import sys

from testbed.medium.server import main

sys.exit(main())
