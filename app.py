"""Entry point: ``python app.py [--host H] [--port P]`` serves the API and the widget.

Same as ``policyqa serve``; settings come from POLICYQA_* environment variables.
"""

import sys

from policyqa.cli import main

if __name__ == "__main__":
    main(["serve", *sys.argv[1:]])
