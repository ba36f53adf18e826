"""`python app.py`: serve the chat UI (same as `rag serve`; accepts --host, --port, --index-dir)."""

import sys

from rag.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
