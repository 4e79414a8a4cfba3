import sys
from ._replay import main

sys.exit(main())
